// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Tests.Pki;

namespace ExchangeBus.Core.Tests.GlobalConf;

[Platform(Exclude = "Win", Reason = "Unix file modes.")]
[UnsupportedOSPlatform("windows")]
public sealed class ConfigurationAnchorTests
{
    private GlobalConfTestPki pki = null!;
    private TempDirectory folder = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp() => pki = new GlobalConfTestPki();

    [OneTimeTearDown]
    public void OneTimeTearDown() => pki.Dispose();

    [SetUp]
    public void SetUp() => folder = new TempDirectory();

    [TearDown]
    public void TearDown() => folder.Dispose();

    [Test]
    public void WriteThenRead_RoundTrips()
    {
        var anchor = TwoKeyAnchor();
        var path = folder.File("anchor.json");

        anchor.Write(path);
        var read = ConfigurationAnchor.Read(path);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.Instance, Is.EqualTo("VN"));
            Assert.That(read.RegistryAddress, Is.EqualTo("https://registry.vn.test:4443"));
            Assert.That(read.CreatedAt, Is.EqualTo(TestClock.Start));
            Assert.That(read.SigningCertificates.Select(c => c.RawData), Is.EqualTo(new[] { pki.SigningCertificate.RawData, pki.OtherSigningCertificate.RawData }));
            Assert.That(read.RegistryTlsTrustRoots.Select(c => c.RawData), Is.EqualTo(new[] { pki.TlsRoot.Certificate.RawData }));
            Assert.That(read.Fingerprint, Is.EqualTo(anchor.Fingerprint));
            Assert.That(read.ToJson(), Is.EqualTo(anchor.ToJson()));
        }
    }

    [Test]
    public void Write_IsOwnerOnly()
    {
        var path = folder.File("anchor.json");

        TwoKeyAnchor().Write(path);

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void Write_ExistingFileWithoutOverwrite_AlreadyExists()
    {
        var path = folder.File("anchor.json");
        TwoKeyAnchor().Write(path);

        var ex = Assert.Throws<ConfigurationAnchorException>(() => TwoKeyAnchor().Write(path));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorAlreadyExists));
    }

    [Test]
    public void Write_WithOverwrite_ReplacesTheFile()
    {
        var path = folder.File("anchor.json");
        TwoKeyAnchor().Write(path);
        var single = pki.Anchor;

        single.Write(path, overwrite: true);

        Assert.That(ConfigurationAnchor.Read(path).Fingerprint, Is.EqualTo(single.Fingerprint));
        Assert.That(Directory.GetFiles(folder.Path), Has.Length.EqualTo(1), "no temporary file left behind");
    }

    [Test]
    public void File_IsReadableJsonWithPem()
    {
        var json = Encoding.UTF8.GetString(TwoKeyAnchor().ToJson());
        var node = JsonNode.Parse(json)!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That((string?)node["format"], Is.EqualTo("exchangebus-configuration-anchor/1"));
            Assert.That((string?)node["createdAt"], Is.EqualTo("2030-01-15T12:00:00Z"));
            Assert.That((string?)node["configurationSigningCertificates"]![0], Does.StartWith("-----BEGIN CERTIFICATE-----\n"));
            Assert.That(json, Does.Not.Contain("\\u002B"), "base64 is written as is");
            Assert.That(json, Does.EndWith("}\n"));
        }
    }

    [Test]
    public void Fingerprint_IsSha256OfTheDocumentedCanonicalForm()
    {
        var anchor = TwoKeyAnchor();
        string[] signing =
        [
            Convert.ToHexStringLower(SHA256.HashData(pki.SigningCertificate.RawData)),
            Convert.ToHexStringLower(SHA256.HashData(pki.OtherSigningCertificate.RawData)),
        ];
        Array.Sort(signing, StringComparer.Ordinal);
        var canonical =
            "exchangebus-configuration-anchor/1\n"
            + "instance=VN\n"
            + "registry-address=https://registry.vn.test:4443\n"
            + string.Concat(signing.Select(h => $"configuration-signing-certificate-sha256={h}\n"))
            + $"registry-tls-trust-root-sha256={Convert.ToHexStringLower(SHA256.HashData(pki.TlsRoot.Certificate.RawData))}\n";

        Assert.That(anchor.Fingerprint, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)))));
    }

    [Test]
    public void SeveralRegistryAddresses_RoundTrip_EachInTheFingerprint_OneAddressWritesNoList()
    {
        var several = ConfigurationAnchor.Create(
            "VN", "https://registry.vn.test:4443", [pki.SigningCertificate, pki.OtherSigningCertificate], [pki.TlsRoot.Certificate], TestClock.Start,
            otherRegistryAddresses: ["https://REGISTRY2.vn.test:4443/", "https://registry.vn.test:4443"]);
        var read = ConfigurationAnchor.Parse(several.ToJson());
        var oneLine = "registry-address=https://registry.vn.test:4443\n";
        var canonicalOne = Canonical(oneLine);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.RegistryAddresses, Is.EqualTo(new[] { "https://registry.vn.test:4443", "https://registry2.vn.test:4443" }), "normalized, first kept first, no repeats");
            Assert.That(read.RegistryAddress, Is.EqualTo("https://registry.vn.test:4443"));
            Assert.That(read.Fingerprint, Is.EqualTo(several.Fingerprint));
            Assert.That(several.Fingerprint, Is.EqualTo(Sha256(Canonical(oneLine + "registry-address=https://registry2.vn.test:4443\n"))));
            Assert.That(TwoKeyAnchor().Fingerprint, Is.EqualTo(Sha256(canonicalOne)), "one address: the fingerprint as before");
            Assert.That(JsonNode.Parse(TwoKeyAnchor().ToJson())!["registryAddresses"], Is.Null, "one address: the file as before, readable by older nodes");
        }

        string Canonical(string addressLines)
        {
            string[] signing =
            [
                Convert.ToHexStringLower(SHA256.HashData(pki.SigningCertificate.RawData)),
                Convert.ToHexStringLower(SHA256.HashData(pki.OtherSigningCertificate.RawData)),
            ];
            Array.Sort(signing, StringComparer.Ordinal);
            return "exchangebus-configuration-anchor/1\n" + "instance=VN\n" + addressLines
                + string.Concat(signing.Select(h => $"configuration-signing-certificate-sha256={h}\n"))
                + $"registry-tls-trust-root-sha256={Convert.ToHexStringLower(SHA256.HashData(pki.TlsRoot.Certificate.RawData))}\n";
        }

        static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(text)));
    }

    [Test]
    public void Parse_RegistryAddresses_NotStartingWithRegistryAddress_OrABadOne_AllReportedWithTheirCode()
    {
        var json = Json(o => o["registryAddresses"] = new JsonArray("https://other.vn.test:4443", "ftp://x", "https://ok.vn.test:1"));

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.That(ex!.Errors.Select(e => (e.Code, e.Path)), Is.EqualTo(new[]
        {
            (GlobalConfErrors.AnchorInvalidRegistryAddress, (string?)"registryAddresses[0]"),
            (GlobalConfErrors.AnchorInvalidRegistryAddress, (string?)"registryAddresses[1]"),
        }));
    }

    [Test]
    public void Fingerprint_IgnoresOrderCreationTimeAndAddressSpelling()
    {
        var a = TwoKeyAnchor();
        var b = ConfigurationAnchor.Create(
            "VN",
            "https://REGISTRY.vn.test:4443/",
            [pki.OtherSigningCertificate, pki.SigningCertificate],
            [pki.TlsRoot.Certificate],
            TestClock.Start.AddDays(3));

        Assert.That(b.Fingerprint, Is.EqualTo(a.Fingerprint));
    }

    [Test]
    public void Fingerprint_ChangesWithWhatIsTrusted()
    {
        var baseline = TwoKeyAnchor().Fingerprint;
        var now = TestClock.Start;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(pki.Anchor.Fingerprint, Is.Not.EqualTo(baseline), "one signing certificate fewer");
            Assert.That(
                ConfigurationAnchor.Create("VN", "https://registry.vn.test:4444", [pki.SigningCertificate, pki.OtherSigningCertificate], [pki.TlsRoot.Certificate], now).Fingerprint,
                Is.Not.EqualTo(baseline),
                "another port");
            Assert.That(
                ConfigurationAnchor.Create("EE", "https://registry.vn.test:4443", [pki.SigningCertificate, pki.OtherSigningCertificate], [pki.TlsRoot.Certificate], now).Fingerprint,
                Is.Not.EqualTo(baseline),
                "another instance");
            Assert.That(
                ConfigurationAnchor.Create("VN", "https://registry.vn.test:4443", [pki.SigningCertificate, pki.OtherSigningCertificate], [pki.Root.Certificate], now).Fingerprint,
                Is.Not.EqualTo(baseline),
                "another TLS root");
        }
    }

    [Test]
    public void FingerprintForReading_GroupsOfFour()
    {
        var anchor = TwoKeyAnchor();

        Assert.That(anchor.FingerprintForReading, Does.Match("^([0-9A-F]{4} ){15}[0-9A-F]{4}$"));
        Assert.That(anchor.FingerprintForReading.Replace(" ", "", StringComparison.Ordinal), Is.EqualTo(anchor.Fingerprint.ToUpperInvariant()));
    }

    [Test]
    public void Read_MissingFile_NotFound()
    {
        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Read(folder.File("nope.json")));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorNotFound));
    }

    [Test]
    public void Read_HugeFile_TooLarge()
    {
        var path = folder.File("anchor.json");
        File.WriteAllBytes(path, new byte[ConfigurationAnchor.MaxFileBytes + 1]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Read(path));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorTooLarge));
    }

    [TestCase(UnixFileMode.GroupWrite)]
    [TestCase(UnixFileMode.OtherWrite)]
    public void Read_WritableByOthers_InsecurePermissions(UnixFileMode extra)
    {
        var path = folder.File("anchor.json");
        TwoKeyAnchor().Write(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Read(path));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorInsecurePermissions));
    }

    [Test]
    public void Read_WorldReadable_IsFine()
    {
        var path = folder.File("anchor.json");
        TwoKeyAnchor().Write(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        Assert.That(ConfigurationAnchor.Read(path).Instance, Is.EqualTo("VN"));
    }

    [TestCase("")]
    [TestCase("not json")]
    [TestCase("[1, 2]")]
    [TestCase("{\"format\": \"exchangebus-configuration-anchor/1\"")]
    [TestCase("{\"format\": \"exchangebus-configuration-anchor/1\", /* comment */ \"instance\": \"VN\"}")]
    public void Parse_NotAnAnchorObject_Malformed(string text)
    {
        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(text)));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorMalformed));
    }

    [Test]
    public void Parse_WithByteOrderMark_Accepted()
    {
        byte[] json = [0xEF, 0xBB, 0xBF, .. TwoKeyAnchor().ToJson()];

        Assert.That(ConfigurationAnchor.Parse(json).Fingerprint, Is.EqualTo(TwoKeyAnchor().Fingerprint));
    }

    [Test]
    public void Parse_UnknownMissingAndDuplicateFields_AllReported()
    {
        var json = Json(o =>
        {
            o.Remove("createdAt");
            o["registryAdress"] = "https://typo.vn.test";
        });
        json = json.Replace("\"instance\": \"VN\",", "\"instance\": \"VN\", \"instance\": \"EE\",", StringComparison.Ordinal);

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.Errors.Select(e => e.Code), Is.All.EqualTo(GlobalConfErrors.AnchorMalformed));
            Assert.That(ex.Errors.Select(e => e.Path), Is.EquivalentTo(new[] { "instance", "registryAdress", "createdAt" }));
        }
    }

    [Test]
    public void Parse_WrongTypes_Malformed()
    {
        var json = Json(o =>
        {
            o["instance"] = 42;
            o["registryTlsTrustRoots"] = "not an array";
        });

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.That(ex.Errors.Select(e => e.Path), Is.EquivalentTo(new[] { "instance", "registryTlsTrustRoots" }));
    }

    [Test]
    public void Parse_OtherFormatVersion_UnsupportedFormat()
    {
        var json = Json(o =>
        {
            o["format"] = "exchangebus-configuration-anchor/2";
            o["somethingNew"] = true;
        });

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorUnsupportedFormat));
    }

    [Test]
    public void Parse_BadValues_EachWithItsCode()
    {
        var json = Json(o =>
        {
            o["instance"] = "V N";
            o["registryAddress"] = "http://registry.vn.test";
            o["createdAt"] = "yesterday";
            o["configurationSigningCertificates"] = new JsonArray("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
            o["registryTlsTrustRoots"] = new JsonArray(pki.TsaCertificate.ExportCertificatePem());
        });

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.That(ex.Errors.Select(e => e.Code), Is.EquivalentTo(new[]
        {
            GlobalConfErrors.AnchorInvalidInstance,
            GlobalConfErrors.AnchorInvalidRegistryAddress,
            GlobalConfErrors.AnchorInvalidCreatedAt,
            GlobalConfErrors.AnchorInvalidSigningCertificate,
            GlobalConfErrors.AnchorInvalidTrustRoot,
        }));
    }

    [Test]
    public void Parse_PemWithTwoBlocks_InvalidSigningCertificate()
    {
        var json = Json(o => o["configurationSigningCertificates"] = new JsonArray(
            pki.SigningCertificate.ExportCertificatePem() + "\n" + pki.OtherSigningCertificate.ExportCertificatePem()));

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorInvalidSigningCertificate));
    }

    [Test]
    public void Parse_NoSigningCertificate_InvalidSigningCertificate()
    {
        var json = Json(o => o["configurationSigningCertificates"] = new JsonArray());

        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorInvalidSigningCertificate));
    }

    [Test]
    public void Create_SigningCertificateOfAnotherProfile_Refused()
    {
        // A TLS certificate (it has an EKU), a CA and a TSA are not configuration-signing certificates.
        var (tls, key) = pki.Issue(CertificateProfile.Auditor, "Auditor");
        using (key)
        {
            foreach (var wrong in new[] { tls, pki.Root.Certificate, pki.TsaCertificate })
            {
                var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Create(
                    "VN", GlobalConfTestPki.RegistryAddress, [wrong], [pki.TlsRoot.Certificate], TestClock.Start));

                Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorInvalidSigningCertificate), wrong.Subject);
            }
        }
    }

    [Test]
    public void Create_DuplicateSigningCertificate_Refused()
    {
        var ex = Assert.Throws<ConfigurationAnchorException>(() => ConfigurationAnchor.Create(
            "VN", GlobalConfTestPki.RegistryAddress, [pki.SigningCertificate, pki.SigningCertificate], [pki.TlsRoot.Certificate], TestClock.Start));

        Assert.That(ex.Code, Is.EqualTo(GlobalConfErrors.AnchorInvalidSigningCertificate));
    }

    [Test]
    public void Create_KeepsItsOwnCopiesOfTheCertificates()
    {
        var (certificate, key) = pki.Issue(CertificateProfile.ConfigurationSigning, "Short-lived copy");
        key.Dispose();
        var anchor = ConfigurationAnchor.Create(
            "VN", GlobalConfTestPki.RegistryAddress, [certificate], [pki.TlsRoot.Certificate], TestClock.Start);
        var expected = certificate.RawData;

        certificate.Dispose();

        Assert.That(anchor.SigningCertificates[0].RawData, Is.EqualTo(expected));
    }

    private ConfigurationAnchor TwoKeyAnchor() => ConfigurationAnchor.Create(
        "VN",
        GlobalConfTestPki.RegistryAddress,
        [pki.SigningCertificate, pki.OtherSigningCertificate],
        [pki.TlsRoot.Certificate],
        TestClock.Start.AddTicks(1234));

    /// <summary>A valid anchor's JSON, edited.</summary>
    private string Json(Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(TwoKeyAnchor().ToJson())!.AsObject();
        edit(node);
        return node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}
