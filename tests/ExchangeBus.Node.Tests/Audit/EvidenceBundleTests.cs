// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.Audit;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Evidence bundles exported through the node's real audit API on a real bus (registry CA, OCSP
/// responder and TSA; mutual TLS): they verify with xbus and with the real openssl, the same
/// evidence gives the same bytes, and every tampering is refused with its own code naming the file.
/// </summary>
[NonParallelizable]
public sealed partial class EvidenceBundleTests
{
    private BusFixture _bus = null!;
    private X509Certificate2 _auditor = null!;
    private CallResponse _call = null!;
    private CallResponse _later = null!;
    private ulong[] _sequences = null!;
    private byte[] _bundle = null!;
    private ulong _headSize;
    private byte[] _laterToken = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        _auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Nguyễn Văn An");

        using var local = _bus.LocalChannel();
        _call = await Call(local, "who is citizen-042?");
        await _bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
        _later = await Call(local, "and citizen-043?");
        await _bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
        _bundle = await ExportAsync(_call.MessageId);
        var reader = _bus.ProviderNode.Log.Reader;
        _sequences = [.. _bus.ProviderNode.Log.FindByMessageId(_call.MessageId).Select(e => (ulong)e.Sequence)];
        _headSize = (ulong)reader.FirstTreeHeadCovering((long)_sequences[^1])!.TreeSize;
        _laterToken = reader.LatestTreeHead()!.TimeStampToken;
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _auditor.Dispose();
        await _bus.DisposeAsync();
    }

    [SetUp]
    public void MakeWorkFolder() => _work = Directory.CreateTempSubdirectory("xbus-bundle-").FullName;

    [TearDown]
    public void RemoveWorkFolder() => Directory.Delete(_work, recursive: true);

    [Test]
    public void Export_OfAnExchange_HoldsBothRecordsAndOneHead_AndVerifies()
    {
        var result = Verify(_bundle);

        Assert.That(result.Problems, Is.Empty);
        Assert.That(result.MessageId, Is.EqualTo(_call.MessageId));
        Assert.That(result.Node, Is.EqualTo(_bus.ProviderNode.Node.ToString()));
        Assert.That(result.Records, Is.EqualTo(_sequences).And.Count.EqualTo(2));
        Assert.That(result.HeadTimes.Keys, Is.EqualTo(new[] { _headSize }));
        var files = BundleTestFiles.Unzip(_bundle);
        var request = EvidenceBundle.RecordFolder(_sequences[0]);
        Assert.That(files.Keys, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(files.Keys, Is.SupersetOf(new[]
        {
            "README.md", "check.sh", "check-record.py", "manifest.json", "root.pem",
            request + "record.json", request + "header.bin", request + "body.bin", request + "tbs.bin", request + "signature.der",
            request + "signer.pem", request + "ocsp.der", request + "inclusion-proof.json",
            $"heads/{_headSize}/head.bin", $"heads/{_headSize}/head.sig", $"heads/{_headSize}/signer.pem", $"heads/{_headSize}/head.tst", $"heads/{_headSize}/tsa.pem",
        }));
        var record = JsonDocument.Parse(files[request + "record.json"]).RootElement;
        Assert.That(record.GetProperty("subject_id").GetString(), Is.EqualTo("citizen-042"));
        Assert.That(record.GetProperty("direction").GetInt32(), Is.EqualTo((int)MessageDirection.ProviderRequest));
        Assert.That(Encoding.UTF8.GetString(files[request + "body.bin"]), Does.Contain("who is citizen-042?"));
    }

    [Test]
    public async Task SameEvidence_GivesTheSameBytes()
    {
        var again = await ExportAsync(_call.MessageId);

        Assert.That(again, Is.EqualTo(_bundle));
        using var archive = new ZipArchive(new MemoryStream(_bundle));
        Assert.That(archive.Entries.Select(e => e.LastWriteTime.Year).Distinct(), Is.EqualTo(new[] { 1980 }));
    }

    [Test]
    public void BodyByteChanged_ManifestUpdated_BodyHashMismatch()
    {
        var body = Request("body.bin");

        var problems = Tamper(files => files[body][0] ^= 1);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.BodyHashMismatch, body) }));
    }

    [Test]
    public void BodyByteChanged_ManifestLeftAsItWas_ManifestMismatchToo()
    {
        var body = Request("body.bin");

        var problems = Tamper(files => files[body][0] ^= 1, updateManifest: false);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.ManifestMismatch, body), (EvidenceBundleErrors.BodyHashMismatch, body) }));
    }

    [Test]
    public void ManifestDigestEdited_ManifestMismatch()
    {
        var problems = Tamper(files =>
        {
            var manifest = JsonNode.Parse(files["manifest.json"])!;
            manifest["sha256"]!["root.pem"] = new string('0', 64);
            files["manifest.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        }, updateManifest: false);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.ManifestMismatch, "root.pem") }));
    }

    [Test]
    public void SignatureByteChanged_RecordHashMismatch_AndSignatureInvalid()
    {
        var problems = Tamper(files => files[Request("signature.der")][^1] ^= 1);

        Assert.That(problems, Is.EqualTo(new[]
        {
            (EvidenceBundleErrors.RecordHashMismatch, Request("record.json")),
            (EvidenceBundleErrors.SignatureInvalid, Request("signature.der")),
        }));
    }

    [Test]
    public void RecordFieldEdited_RecordHashMismatch()
    {
        var problems = Tamper(files => files[Request("record.json")] = Encoding.UTF8.GetBytes(
            Encoding.UTF8.GetString(files[Request("record.json")]).Replace("\"citizen-042\"", "\"citizen-099\"", StringComparison.Ordinal)));

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.RecordHashMismatch, Request("record.json")) }));
    }

    [Test]
    public void TbsEdited_TbsMismatch_AndTheSignatureNoLongerHolds()
    {
        var problems = Tamper(files => files[Request("tbs.bin")][40] ^= 1);

        Assert.That(problems, Is.EqualTo(new[]
        {
            (EvidenceBundleErrors.TbsMismatch, Request("tbs.bin")),
            (EvidenceBundleErrors.SignatureInvalid, Request("signature.der")),
        }));
    }

    [Test]
    public void SignerCertificateSwapped_ForTheOtherMembers_SignerMismatch_SignatureInvalid_OcspInvalid()
    {
        var problems = Tamper(files => files[Request("signer.pem")] = files[Response("signer.pem")]);

        Assert.That(problems, Is.EqualTo(new[]
        {
            (EvidenceBundleErrors.SignerMismatch, Request("signer.pem")),
            (EvidenceBundleErrors.SignatureInvalid, Request("signature.der")),
            (EvidenceBundleErrors.OcspInvalid, Request("ocsp.der")),
        }));
    }

    [Test]
    public void OcspResponseSwapped_ForTheOtherCertificates_OcspInvalid()
    {
        var problems = Tamper(files => files[Request("ocsp.der")] = files[Response("ocsp.der")]);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.OcspInvalid, Request("ocsp.der")) }));
    }

    [Test]
    public void OcspResponseRemoved_OcspInvalid()
    {
        var problems = Tamper(files => files.Remove(Request("ocsp.der")));

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.OcspInvalid, Request("ocsp.der")) }));
    }

    [Test]
    public void ProofElementFlipped_InclusionInvalid()
    {
        var problems = Tamper(files =>
        {
            var proof = JsonNode.Parse(files[Request("inclusion-proof.json")])!;
            var first = Convert.FromHexString(proof["hashes"]![0]!.GetValue<string>());
            first[0] ^= 1;
            proof["hashes"]![0] = Convert.ToHexStringLower(first);
            files[Request("inclusion-proof.json")] = Encoding.UTF8.GetBytes(proof.ToJsonString());
        });

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.InclusionInvalid, Request("inclusion-proof.json")) }));
    }

    [Test]
    public void ProofTreeSizeEdited_InclusionInvalid()
    {
        var problems = Tamper(files =>
        {
            var proof = JsonNode.Parse(files[Request("inclusion-proof.json")])!;
            proof["tree_size"] = proof["tree_size"]!.GetValue<ulong>() + 1;
            files[Request("inclusion-proof.json")] = Encoding.UTF8.GetBytes(proof.ToJsonString());
        });

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.InclusionInvalid, Request("inclusion-proof.json")) }));
    }

    [Test]
    public void RecordTimeBeyondAnyDate_Malformed_NotAnException()
    {
        var problems = Tamper(files =>
        {
            var record = JsonNode.Parse(files[Request("record.json")])!;
            record["at_unix_ms"] = long.MaxValue;
            files[Request("record.json")] = Encoding.UTF8.GetBytes(record.ToJsonString());
        });

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.RecordHashMismatch, Request("record.json")), (EvidenceBundleErrors.Malformed, Request("record.json")) }));
    }

    [Test]
    public void HeadByteChanged_HeadSignatureInvalid_AndTimeStampInvalid()
    {
        var head = $"heads/{_headSize}/";

        // One bit of the head's time: the head still decodes to a plausible one (a second off),
        // so only its signature and its time-stamp token can tell. (A flipped byte anywhere
        // else could leave the time undecodable, a different finding: see the next test.)
        var problems = Tamper(files =>
        {
            var parsed = TreeHead.Parser.ParseFrom(files[head + "head.bin"]);
            parsed.CreatedAt.Seconds ^= 1;
            files[head + "head.bin"] = parsed.ToByteArray();
        });

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.HeadSignatureInvalid, head + "head.sig"), (EvidenceBundleErrors.TimeStampInvalid, head + "head.tst") }));
    }

    [Test]
    public void HeadTimeOutOfRange_Malformed_NotAnException()
    {
        var head = $"heads/{_headSize}/";

        // A changed byte can leave the time's nanos beyond a second: found, not thrown.
        var problems = Tamper(files =>
        {
            var parsed = TreeHead.Parser.ParseFrom(files[head + "head.bin"]);
            parsed.CreatedAt.Nanos = 1_500_000_000;
            files[head + "head.bin"] = parsed.ToByteArray();
        });

        Assert.That(problems, Does.Contain((EvidenceBundleErrors.Malformed, head + "head.bin")));
    }

    [Test]
    public void TokenSwapped_ForALaterHeadsToken_TimeStampInvalid()
    {
        var head = $"heads/{_headSize}/";
        Assert.That(_laterToken, Is.Not.EqualTo(BundleTestFiles.Unzip(_bundle)[head + "head.tst"]));

        var problems = Tamper(files => files[head + "head.tst"] = _laterToken);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.TimeStampInvalid, head + "head.tst") }));
    }

    [Test]
    public void HeadSignerSwapped_ForTheClientMembers_HeadSignatureInvalid()
    {
        var head = $"heads/{_headSize}/";

        // The request was signed by the client member: a real, trusted signing certificate, of the wrong member.
        var problems = Tamper(files => files[head + "signer.pem"] = files[Request("signer.pem")]);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.HeadSignatureInvalid, head + "signer.pem"), (EvidenceBundleErrors.HeadSignatureInvalid, head + "head.sig") }));
    }

    [Test]
    public void RootSwapped_ForAnotherCa_CertificateUntrusted()
    {
        using var other = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Elsewhere", "Root CA"), TimeProvider.System);

        var problems = Tamper(files => files["root.pem"] = Encoding.ASCII.GetBytes(other.Certificate.ExportCertificatePem()));

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.CertificateUntrusted, "root.pem") }));
    }

    [Test]
    public void AuditorTrustingAnotherRoot_FindsEveryCertificateUntrusted()
    {
        using var other = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Elsewhere", "Root CA"), TimeProvider.System);
        var head = $"heads/{_headSize}/";

        var result = new EvidenceBundleVerifier([other.Certificate], TimeProvider.System).Verify(new MemoryStream(_bundle));

        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(new[]
        {
            (EvidenceBundleErrors.CertificateUntrusted, "root.pem"),
            (EvidenceBundleErrors.CertificateUntrusted, head + "signer.pem"),
            (EvidenceBundleErrors.CertificateUntrusted, head + "head.tst"),
            (EvidenceBundleErrors.CertificateUntrusted, Request("signer.pem")),
            (EvidenceBundleErrors.OcspInvalid, Request("ocsp.der")),
            (EvidenceBundleErrors.CertificateUntrusted, Response("signer.pem")),
            (EvidenceBundleErrors.OcspInvalid, Response("ocsp.der")),
        }));
    }

    [Test]
    public void FileAddedOutsideTheLayout_OrWithDotDot_Malformed_AndNothingIsWritten()
    {
        var problems = Tamper(files =>
        {
            files["../../evil.sh"] = "rm -rf /"u8.ToArray();
            files["records/1/../../x"] = [1];
        }, updateManifest: false);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.Malformed, "../../evil.sh"), (EvidenceBundleErrors.Malformed, "records/1/../../x") }));
        Assert.That(File.Exists(Path.Combine(_work, "..", "..", "evil.sh")), Is.False);
    }

    [Test]
    public void RequiredFileRemoved_Malformed_AndTheManifestMisses_It()
    {
        var header = Request("header.bin");

        var problems = Tamper(files => files.Remove(header), updateManifest: false);

        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.ManifestMismatch, header), (EvidenceBundleErrors.Malformed, header) }));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(100)]
    [TestCase(-1)]
    public void NotAZip_OrATruncatedOne_Malformed(int keep)
    {
        var bytes = keep switch
        {
            0 => [],
            -1 => RandomNumberGenerator.GetBytes(4096),
            _ => _bundle[..(_bundle.Length * keep / 200)],
        };

        var result = Verify(bytes);

        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(new[] { (EvidenceBundleErrors.Malformed, "(zip)") }));
    }

    [Test]
    public void ZipBomb_IsRefusedAsMalformed_WithoutReadingItAll()
    {
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var stream = archive.CreateEntry(Request("body.bin"), CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1 << 20];
            for (var i = 0; i < (EvidenceBundleVerifier.MaxEntryBytes >> 20) + 2; i++)
            {
                stream.Write(zeros);
            }
        }

        Assert.That(output.Length, Is.LessThan(1 << 20), "a bomb: small compressed, large expanded");
        var result = Verify(output.ToArray());

        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(new[] { (EvidenceBundleErrors.Malformed, Request("body.bin")) }));
    }

    [Test]
    public async Task XbusProcesses_QueryExportAndVerifyBundle_AndRefuseWhatIsNotYetTimeStamped()
    {
        var (auditor, root) = await BundleTestFiles.AuditorFolderAsync(_bus, _work);
        string[] node = ["--node", "https://" + _bus.ProviderNode.PeerAddress, "--auditor", auditor, "--trust-root", root];
        var bundle = Path.Combine(_work, "bundle.zip");

        var query = await XbusProcess.RunAsync(["audit", "query", "--message-id", _call.MessageId, "--all", "--json", .. node]);
        var export = await XbusProcess.RunAsync(["audit", "export", "--message-id", _call.MessageId, "--out", bundle, .. node]);
        var verify = await XbusProcess.RunAsync("audit", "verify-bundle", bundle, "--anchor", Path.Combine(_bus.Root, "anchor.json"), "--json");

        Assert.That(query.Exit, Is.Zero, query.ToString());
        Assert.That(QueryResponse.Parser.ParseJson(query.Output).Records.Select(r => r.Sequence), Is.EqualTo(_sequences));
        Assert.That(export.Exit, Is.Zero, export.ToString());
        Assert.That(export.Output, Does.Contain("verified: every check passed"));
        Assert.That(await File.ReadAllBytesAsync(bundle), Is.EqualTo(_bundle), "the CLI's bundle is the API's, byte for byte");
        Assert.That(verify.Exit, Is.Zero, verify.ToString());
        var json = JsonDocument.Parse(verify.Output).RootElement;
        Assert.That(json.GetProperty("valid").GetBoolean(), Is.True);
        Assert.That(json.GetProperty("message_id").GetString(), Is.EqualTo(_call.MessageId));

        // A tampered bundle: exit 2 and the code; a record not yet time-stamped: refused with its code.
        var files = BundleTestFiles.Unzip(_bundle);
        files[Request("body.bin")][0] ^= 1;
        await File.WriteAllBytesAsync(bundle, Zip(files));
        var tampered = await XbusProcess.RunAsync("audit", "verify-bundle", bundle, "--trust-root", root);
        using var local = _bus.LocalChannel();
        var fresh = await Call(local, "not stamped yet");
        var refused = await XbusProcess.RunAsync(["audit", "export", "--message-id", fresh.MessageId, "--out", Path.Combine(_work, "fresh.zip"), .. node]);

        Assert.That(tampered.Exit, Is.EqualTo(2));
        Assert.That(tampered.Error, Does.Contain($"error {EvidenceBundleErrors.ManifestMismatch}: ").And.Contain($"{EvidenceBundleErrors.BodyHashMismatch} {Request("body.bin")}"));
        Assert.That(refused.Exit, Is.EqualTo(2), refused.ToString());
        Assert.That(refused.Error, Does.StartWith($"error {EvidenceBundleErrors.NotTimeStamped}: "));
        Assert.That(File.Exists(Path.Combine(_work, "fresh.zip")), Is.False);
    }

    private string Request(string file) => EvidenceBundle.RecordFolder(_sequences[0]) + file;

    private string Response(string file) => EvidenceBundle.RecordFolder(_sequences[1]) + file;

    private EvidenceBundleVerification Verify(byte[] bundle) =>
        new EvidenceBundleVerifier([_bus.Registry.Keys.RootCertificate], TimeProvider.System).Verify(new MemoryStream(bundle));

    /// <summary>Edits the exported bundle's files, rewrites the manifest to match unless told not to, and verifies.</summary>
    private (string Code, string File)[] Tamper(Action<SortedDictionary<string, byte[]>> edit, bool updateManifest = true)
    {
        var files = BundleTestFiles.Unzip(_bundle);
        edit(files);
        if (updateManifest)
        {
            BundleTestFiles.RewriteManifest(files);
        }

        return [.. Verify(Zip(files)).Problems.Select(p => (p.Code, p.File))];
    }

    private Task<byte[]> ExportAsync(string messageId) => BundleTestFiles.ExportAsync(_bus, _bus.ProviderNode, _auditor, messageId);

    private static byte[] Zip(SortedDictionary<string, byte[]> files) => BundleTestFiles.Zip(files);

    private static Task<CallResponse> Call(GrpcChannel local, string payload) =>
        new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            SubjectId = "citizen-042",
            Payload = ByteString.CopyFromUtf8(payload),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
}
