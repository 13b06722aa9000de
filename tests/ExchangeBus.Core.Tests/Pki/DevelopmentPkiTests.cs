// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Core.Tests.Pki;

[Platform(Exclude = "Win", Reason = "Unix file modes.")]
[UnsupportedOSPlatform("windows")]
public sealed class DevelopmentPkiTests
{
    private static readonly (string Certificate, string Key, CertificateProfile Profile)[] Leaves =
    [
        (DevelopmentPki.ConfigurationSigningCertificateFile, DevelopmentPki.ConfigurationSigningKeyFile, CertificateProfile.ConfigurationSigning),
        (DevelopmentPki.TimeStampingCertificateFile, DevelopmentPki.TimeStampingKeyFile, CertificateProfile.TimeStamping),
        (DevelopmentPki.OcspCertificateFile, DevelopmentPki.OcspKeyFile, CertificateProfile.OcspSigning),
        (DevelopmentPki.RegistryTlsCertificateFile, DevelopmentPki.RegistryTlsKeyFile, CertificateProfile.TlsServer),
        (DevelopmentPki.AdministratorCertificateFile, DevelopmentPki.AdministratorKeyFile, CertificateProfile.Administrator),
    ];

    [Test]
    public void Create_MakesEveryFile_WithKeysReadableByOwnerOnly()
    {
        using var dir = new TempDirectory();
        var output = Path.Combine(dir.Path, "certs-dev");

        var manifest = new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = output, Instance = "VN" });

        Assert.That(Directory.GetFiles(output).Select(Path.GetFileName), Is.EquivalentTo(DevelopmentPki.AllFiles));
        Assert.That(File.GetUnixFileMode(output), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        foreach (var key in DevelopmentPki.AllFiles.Where(f => f.EndsWith(".key.pem", StringComparison.Ordinal)))
        {
            Assert.That(File.GetUnixFileMode(Path.Combine(output, key)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), key);
        }

        Assert.That(manifest.Instance, Is.EqualTo("VN"));
        Assert.That(manifest.Entries.Select(e => e.CertificateFile), Is.EquivalentTo(DevelopmentPki.AllFiles.Where(f => f.EndsWith(".pem", StringComparison.Ordinal) && !f.EndsWith(".key.pem", StringComparison.Ordinal))));
        Assert.That(DevelopmentPki.ReadManifest(output), Is.EqualTo(manifest).Using<DevelopmentPkiManifest>(SameManifest));
    }

    [Test]
    public void Create_RootIsMarkedDevelopmentOnly_AndEveryCertificateChainsToItForItsProfile()
    {
        using var dir = new TempDirectory();
        var clock = new FakeTimeProvider(TestClock.Start);
        new DevelopmentPki(clock).Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path, Instance = "VN" });

        using var root = PemFiles.ReadCertificate(dir.File(DevelopmentPki.RootCertificateFile));
        using var validator = new CertificateChainValidator([root], clock);

        Assert.That(root.Subject, Does.Contain("OU=DEVELOPMENT ONLY"));
        Assert.That(root.Subject, Does.Contain("O=ExchangeBus Development"));
        Assert.That(DevelopmentPki.IsDevelopmentCertificate(root), Is.True);
        foreach (var (certificateFile, keyFile, profile) in Leaves)
        {
            using var certificate = PemFiles.ReadCertificate(dir.File(certificateFile));
            using var key = PemFiles.ReadPrivateKey(dir.File(keyFile));
            var result = validator.Validate(certificate, profile);

            Assert.That(result.IsValid, Is.True, $"{certificateFile}: {string.Join("; ", result.Errors)}");
            Assert.That(DevelopmentPki.IsDevelopmentCertificate(certificate), Is.True, certificateFile);
            Assert.That(certificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo(), Is.EqualTo(key.ExportSubjectPublicKeyInfo()), keyFile);
        }
    }

    [Test]
    public async Task Create_OpenSslVerifiesEveryCertificate()
    {
        using var dir = new TempDirectory();
        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path });

        foreach (var (certificateFile, _, _) in Leaves)
        {
            var verify = await OpenSsl.RunAsync(dir.Path, "verify", "-CAfile", DevelopmentPki.RootCertificateFile, certificateFile);
            Assert.That(verify.ExitCode, Is.Zero, verify.All);
            Assert.That(verify.Output, Does.Contain($"{certificateFile}: OK"));
        }
    }

    [Test]
    public void Create_RegistryTlsCertificate_NamesLocalhostAndLoopback()
    {
        using var dir = new TempDirectory();
        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path });

        using var tls = PemFiles.ReadCertificate(dir.File(DevelopmentPki.RegistryTlsCertificateFile));
        var names = tls.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();

        Assert.That(names.EnumerateDnsNames(), Does.Contain("localhost"));
        Assert.That(names.EnumerateIPAddresses(), Does.Contain(IPAddress.Loopback));
        Assert.That(tls.MatchesHostname("127.0.0.1"), Is.True);
    }

    [Test]
    public void Create_ExistingSet_IsRefusedAndLeftUnchanged_UnlessForced()
    {
        using var dir = new TempDirectory();
        var pki = new DevelopmentPki(TimeProvider.System);
        pki.Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path });
        var rootBefore = File.ReadAllBytes(dir.File(DevelopmentPki.RootCertificateFile));
        var keyBefore = File.ReadAllBytes(dir.File(DevelopmentPki.RootKeyFile));

        var ex = Assert.Throws<PkiException>(() => pki.Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path }));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.DevelopmentPkiAlreadyExists));
        Assert.That(File.ReadAllBytes(dir.File(DevelopmentPki.RootCertificateFile)), Is.EqualTo(rootBefore));
        Assert.That(File.ReadAllBytes(dir.File(DevelopmentPki.RootKeyFile)), Is.EqualTo(keyBefore));

        pki.Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path, Force = true });

        Assert.That(File.ReadAllBytes(dir.File(DevelopmentPki.RootCertificateFile)), Is.Not.EqualTo(rootBefore));
        Assert.That(File.GetUnixFileMode(dir.File(DevelopmentPki.RootKeyFile)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void Create_PartialSet_IsRefused()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(DevelopmentPki.TimeStampingKeyFile), "left over");

        var ex = Assert.Throws<PkiException>(
            () => new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path }));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.DevelopmentPkiAlreadyExists));
        Assert.That(ex.Message, Does.Contain(DevelopmentPki.TimeStampingKeyFile));
        Assert.That(File.Exists(dir.File(DevelopmentPki.RootKeyFile)), Is.False);
    }

    [Test]
    public void Create_InFolderWithReadme_KeepsTheReadme()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("README.md"), "# keep me\n");

        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path });
        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = dir.Path, Force = true });

        Assert.That(File.ReadAllText(dir.File("README.md")), Is.EqualTo("# keep me\n"));
    }

    [Test]
    public void Create_InvalidInstance_IsRefusedBeforeCreatingTheFolder()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");

        var ex = Assert.Throws<PkiException>(
            () => new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = output, Instance = "bad\ninstance\u00e9" }));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueInvalidName));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void IsDevelopmentCertificate_OtherCertificate_IsFalse()
    {
        using var ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("EE", "Estonian Registry", "Root CA"), TimeProvider.System);

        Assert.That(DevelopmentPki.IsDevelopmentCertificate(ca.Certificate), Is.False);
    }

    private static bool SameManifest(DevelopmentPkiManifest a, DevelopmentPkiManifest b) =>
        a.Instance == b.Instance && a.CreatedAt == b.CreatedAt && a.Purpose == b.Purpose && a.Entries.SequenceEqual(b.Entries);
}
