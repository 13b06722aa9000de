// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.TrustServices;
using ExchangeBus.Registry.TrustServices;
using Grpc.Core;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Renewal of evidence (issue 16, docs/audit.md "Renewing evidence"): a bundle and an archive
/// from a real bus, time-stamped by the registry's TSA, renewed by a second TSA certificate of
/// the same root (a real <see cref="TimeStampAuthority"/> over real HTTP, its clock set to the
/// moment each renewal is made), then verified with the clock after the first TSA certificate
/// expired. In time, the evidence holds; too late, or over the wrong bytes, the renewal is refused.
/// </summary>
[NonParallelizable]
public sealed partial class EvidenceRenewalTests
{
    private BusFixture _bus = null!;
    private X509Certificate2 _root = null!;
    private RenewalTsa _renewalTsa = null!;
    private byte[] _bundle = null!;
    private ulong _headSize;
    private string _archive = null!;
    private string _work = null!;

    /// <summary>When the registry's TSA certificate, which signed every head's token, expires.</summary>
    private DateTimeOffset FirstExpiry => EvidenceRenewal.NotAfter(_bus.Registry.Keys.TimeStamping);

    /// <summary>A year after the first TSA certificate expired: about three years after the exchange.</summary>
    private DateTimeOffset Later => FirstExpiry.AddDays(365);

    private string Head => EvidenceBundle.HeadFolder(_headSize);

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        _root = _bus.Registry.Keys.RootCertificate;
        _renewalTsa = await RenewalTsa.StartAsync(_bus);

        using var local = _bus.LocalChannel();
        var call = await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8("evidence to keep for years"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;

        // The provider's records as a bundle, the client's as an archive: both stamped by the registry's TSA.
        await _bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
        var log = _bus.ProviderNode.Log;
        var evidence = log.FindByMessageId(call.MessageId).Select(e => AuditEvidence.ToProto(log.Reader.GetEvidence(e.Sequence)!, log.Reader)).ToList();
        _bundle = EvidenceBundle.Build(evidence, [_root]);
        _headSize = evidence[0].Inclusion.TreeSize;
        await _bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        _archive = LogArchiver.Archive(Path.Combine(_bus.Root, "client", "messagelog.db"), _bus.ClientNode.Node.ToString(), Path.Combine(_bus.Root, "archives"), DateTimeOffset.UtcNow.AddMinutes(1), TimeProvider.System).Path;
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _renewalTsa.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [SetUp]
    public void MakeWorkFolder() => _work = Directory.CreateTempSubdirectory("xbus-renewal-").FullName;

    [TearDown]
    public void RemoveWorkFolder() => Directory.Delete(_work, recursive: true);

    [Test]
    public void Bundle_NotRenewed_StillVerifiesAfterTheTsaCertificateExpired_ButSaysItIsDue()
    {
        var soon = VerifyBundle(_bundle, FirstExpiry.AddDays(-30));
        var late = VerifyBundle(_bundle, Later);

        Assert.That(soon.Problems, Is.Empty);
        Assert.That(soon.Warnings, Is.EqualTo(new[] { $"{Head.TrimEnd('/')}: renew it before {FirstExpiry:O}, when the TSA certificate of its last time-stamp ({Head}head.tst) expires (xbus audit renew)." }));
        Assert.That(late.Problems, Is.Empty, "a token is judged at its own time: the bundle holds after its TSA certificate expired");
        Assert.That(late.Warnings, Has.Count.EqualTo(1).And.Some.StartsWith($"{Head.TrimEnd('/')}: due for renewal since {FirstExpiry:O}"));
        Assert.That(VerifyBundle(_bundle, DateTimeOffset.UtcNow).Warnings, Is.Empty);
    }

    [Test]
    public async Task Bundle_RenewedTwiceWhileEachTsaCertificateHeld_VerifiesAfterTheFirstExpired_AndOpensslAgrees()
    {
        var first = await RenewBundleAsync(_bundle, FirstExpiry.AddDays(-30), HashAlgorithmName.SHA256);
        var second = await RenewBundleAsync(first.Bundle, FirstExpiry.AddDays(-10), HashAlgorithmName.SHA512);

        var result = VerifyBundle(second.Bundle, Later);

        Assert.That(result.Problems, Is.Empty);
        Assert.That(result.Warnings, Is.Empty, "the last stamp's TSA certificate holds for years yet");
        Assert.That(result.Renewals[_headSize], Is.EqualTo(2));
        Assert.That(result.LastStamps[_headSize], Is.EqualTo(new StampLink(Head + "renewal-2.tst", FirstExpiry.AddDays(-10), EvidenceRenewal.NotAfter(_renewalTsa.Certificate))));
        Assert.That(first.Stamps, Is.EqualTo(new[] { (Head + "renewal-1.tst", FirstExpiry.AddDays(-30)) }));

        // Every original file keeps its bytes; the manifest lists the new ones; the same tokens give the same zip.
        var before = BundleTestFiles.Unzip(_bundle);
        var after = BundleTestFiles.Unzip(second.Bundle);
        Assert.That(after.Keys.Except(before.Keys), Is.EquivalentTo(new[] { Head + "renewal-1.tst", Head + "renewal-1.tsa.pem", Head + "renewal-2.tst", Head + "renewal-2.tsa.pem" }));
        Assert.That(before.Where(f => f.Key != "manifest.json").All(f => f.Value.AsSpan().SequenceEqual(after[f.Key])), Is.True);
        using (var manifest = JsonDocument.Parse(after["manifest.json"]))
        {
            Assert.That(manifest.RootElement.GetProperty("sha256").GetProperty(Head + "renewal-2.tst").GetString(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(after[Head + "renewal-2.tst"]))));
        }

        var tokens = EvidenceBundleRenewal.Pending(_bundle).Select(p => (p, after[Head + "renewal-1.tst"])).ToList();
        Assert.That(EvidenceBundleRenewal.AddRenewals(_bundle, tokens), Is.EqualTo(first.Bundle), "deterministic");

        // openssl alone, three years on (after the first TSA certificate expired): docs/audit.md's
        // commands as written there, then the bundle's own check.sh, unchanged since the export.
        var bundle = Unpack(second.Bundle);
        var page = await File.ReadAllTextAsync(Path.Combine(RepositoryFolder.Root(), "docs", "audit.md"));
        var block = RenewedBundleBlock().Match(page);
        Assert.That(block.Success, Is.True, "docs/audit.md has a block marked <!-- run-by-test: renewed-bundle -->");
        await File.WriteAllTextAsync(Path.Combine(_work, "renewed.sh"), block.Groups[1].Value);

        var docs = await ThreeYearsOnAsync(bundle, "sh -e ../renewed.sh");
        var check = await ThreeYearsOnAsync(bundle, "sh check.sh ../anchor-root.pem");

        Assert.That(docs.ExitCode, Is.Zero, block.Groups[1].Value + docs.All);
        Assert.That(docs.Output.Split('\n').Where(l => l.Length > 0), Is.EqualTo(new[] { "Verification: OK", "Verification: OK" }), docs.All);
        Assert.That(check.ExitCode, Is.Zero, check.All);
        Assert.That(check.Output, Does.Contain($"ok      {Head.TrimEnd('/')}: renewal-K.tst, if any: "));
        var wrong = await OpenSsl.RunAsync(bundle, "ts", "-verify", "-data", $"{Head}head.bin", "-in", $"{Head}renewal-1.tst", "-token_in", "-CAfile", "../anchor-root.pem", "-untrusted", $"{Head}renewal-1.tsa.pem");
        Assert.That(wrong.ExitCode, Is.Not.Zero, "renewal 1 covers head.tst too, not head.bin alone");
    }

    [Test]
    public async Task Bundle_RenewalMadeAfterTheFirstTsaCertificateExpired_IsRefused_RenewalTooLate()
    {
        var refused = await Assert.ThrowsAsync<RenewalRefusedException>(() => RenewBundleAsync(_bundle, FirstExpiry.AddDays(1), HashAlgorithmName.SHA256));
        Assert.That(refused!.Code, Is.EqualTo(EvidenceBundleErrors.RenewalTooLate));

        // Made anyway, by a TSA whose own certificate is good then: not evidence.
        var pending = EvidenceBundleRenewal.Pending(_bundle).Single();
        var late = EvidenceBundleRenewal.AddRenewals(_bundle, [(pending, await StampAsync(pending.Data, FirstExpiry.AddDays(1)))]);

        var result = VerifyBundle(late, Later);

        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(new[] { (EvidenceBundleErrors.RenewalTooLate, Head + "renewal-1.tst") }));
        Assert.That(result.Warnings, Has.Some.StartsWith($"{Head.TrimEnd('/')}: due for renewal"), "the chain ends at head.tst, whose TSA certificate expired");
        var check = await ThreeYearsOnAsync(Unpack(late), "sh check.sh ../anchor-root.pem");
        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(check.Output.Split('\n').Where(l => l.StartsWith("FAILED", StringComparison.Ordinal)), Is.EqualTo(new[] { $"FAILED  {Head.TrimEnd('/')}: renewal-K.tst, if any: each a token of a TSA of the root you trust, at its own time, over head.bin, head.tst and the renewals before it, made before the TSA certificate of the stamp it renews expired" }));
        Assert.That(check.Output, Does.Contain($"{Head}renewal-1.tst was made after the TSA certificate of {Head}head.tst expired: not evidence"));
    }

    [Test]
    public async Task Bundle_RenewalNotCoveringTheEarlierToken_IsRefused_RenewalInvalid()
    {
        var pending = EvidenceBundleRenewal.Pending(_bundle).Single();
        var headOnly = BundleTestFiles.Unzip(_bundle)[Head + "head.bin"];
        var renewed = EvidenceBundleRenewal.AddRenewals(_bundle, [(pending, await StampAsync(headOnly, FirstExpiry.AddDays(-30)))]);

        var result = VerifyBundle(renewed, Later);

        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(new[] { (EvidenceBundleErrors.RenewalInvalid, Head + "renewal-1.tst") }));
        Assert.That(result.Problems[0].Message, Does.Contain(TrustServiceErrors.TimeStampImprintMismatch));
        var check = await OpenSsl.ShellAsync(Unpack(renewed), "sh check.sh ../anchor-root.pem");
        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(check.Output, Does.Contain($"FAILED  {Head.TrimEnd('/')}: renewal-K.tst, if any: ").And.Contain("message imprint mismatch"));
    }

    [Test]
    public async Task Bundle_RenewalTsaFileOfAnotherCertificate_RenewalInvalid_NamingIt()
    {
        var renewed = (await RenewBundleAsync(_bundle, FirstExpiry.AddDays(-30), HashAlgorithmName.SHA256)).Bundle;
        var files = BundleTestFiles.Unzip(renewed);
        files[Head + "renewal-1.tsa.pem"] = files[Head + "tsa.pem"];
        var manifest = JsonNode.Parse(files["manifest.json"])!;
        manifest["sha256"]![Head + "renewal-1.tsa.pem"] = Convert.ToHexStringLower(SHA256.HashData(files[Head + "tsa.pem"]));
        files["manifest.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(content);
            }
        }

        var result = VerifyBundle(zip.ToArray(), Later);

        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(new[] { (EvidenceBundleErrors.RenewalInvalid, Head + "renewal-1.tsa.pem") }));
    }

    [Test]
    public async Task Archive_RenewedWhileTheTsaCertificateHeld_VerifiesAfterItExpired_AndKeepsItsBytes()
    {
        var archive = CopyArchive();
        var sha256 = SHA256.HashData(await File.ReadAllBytesAsync(archive));
        var unrenewed = LogArchiver.Verify(archive, null, [_root], new FakeTimeProvider(Later));
        Assert.That(unrenewed.Warning, Does.StartWith($"{Path.GetFileName(archive)}: due for renewal since {FirstExpiry:O}"));

        var (token, genTime) = await LogArchiveRenewal.RenewAsync(archive, [_root], Stamper(FirstExpiry.AddDays(-30)), new FakeTimeProvider(FirstExpiry.AddDays(-30)));
        var result = LogArchiver.Verify(archive, null, [_root], new FakeTimeProvider(Later));

        Assert.That((token, genTime), Is.EqualTo((archive + ".renewal-1.tst", FirstExpiry.AddDays(-30))));
        Assert.That(File.Exists(archive + ".renewal-1.tsa.pem"), Is.True);
        Assert.That(SHA256.HashData(await File.ReadAllBytesAsync(archive)), Is.EqualTo(sha256), "the next archive's link to this one holds");
        Assert.That(result.Renewals, Is.EqualTo(1));
        Assert.That(result.Warning, Is.Null);
        Assert.That(result.LastStamp, Is.EqualTo(new StampLink(Path.GetFileName(archive) + ".renewal-1.tst", genTime, EvidenceRenewal.NotAfter(_renewalTsa.Certificate))));

        // openssl alone: the renewal covers the archive file's bytes.
        var verified = await OpenSsl.RunOkAsync(Path.GetDirectoryName(archive)!, "ts", "-verify", "-data", Path.GetFileName(archive), "-in", Path.GetFileName(token), "-token_in",
            "-CAfile", WriteRoot(), "-untrusted", Path.GetFileName(archive) + ".renewal-1.tsa.pem",
            "-attime", genTime.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        Assert.That(verified.Output, Does.Contain("Verification: OK"));
    }

    [Test]
    public async Task Archive_RenewalMadeAfterTheTsaCertificateExpired_IsRefused_RenewalTooLate()
    {
        var archive = CopyArchive();
        var refused = await Assert.ThrowsAsync<ArchiveException>(() => LogArchiveRenewal.RenewAsync(archive, [_root], Stamper(FirstExpiry.AddDays(1)), new FakeTimeProvider(FirstExpiry.AddDays(1))));
        Assert.That(refused!.Code, Is.EqualTo(ArchiveErrors.RenewalTooLate));
        Assert.That(File.Exists(archive + ".renewal-1.tst"), Is.False, "nothing written");

        await WriteArchiveRenewalAsync(archive, await StampAsync(await File.ReadAllBytesAsync(archive), FirstExpiry.AddDays(1)));

        var late = Assert.Throws<ArchiveException>(() => LogArchiver.Verify(archive, null, [_root], new FakeTimeProvider(Later)));
        Assert.That(late!.Code, Is.EqualTo(ArchiveErrors.RenewalTooLate));
        Assert.That(late.Message, Does.StartWith(Path.GetFileName(archive) + ".renewal-1.tst: "));
    }

    [Test]
    public async Task Archive_RenewalNotCoveringTheArchive_IsRefused_RenewalInvalid()
    {
        var archive = CopyArchive();
        var bytes = await File.ReadAllBytesAsync(archive);
        await WriteArchiveRenewalAsync(archive, await StampAsync(bytes[..^1], FirstExpiry.AddDays(-30)));

        var refused = Assert.Throws<ArchiveException>(() => LogArchiver.Verify(archive, null, [_root], new FakeTimeProvider(Later)));

        Assert.That(refused!.Code, Is.EqualTo(ArchiveErrors.RenewalInvalid));
        Assert.That(refused.Message, Does.StartWith(Path.GetFileName(archive) + ".renewal-1.tst: ").And.Contain(TrustServiceErrors.TimeStampImprintMismatch));
    }

    [Test]
    public async Task XbusAuditRenew_ABundleAndAnArchive_AtTheRegistrysTsa_ThenTheyVerify()
    {
        var root = WriteRoot();
        var bundle = Path.Combine(_work, "bundle.zip");
        await File.WriteAllBytesAsync(bundle, _bundle);
        var archive = CopyArchive();

        var renew = await XbusProcess.RunAsync("audit", "renew", bundle, archive, "--tsa-url", _bus.Registry.HttpAddress + "/tsa", "--trust-root", root);
        Assert.That(renew.Exit, Is.Zero, renew.ToString());
        Assert.That(renew.Output, Does.Contain($"renewed {bundle}: {Head}renewal-1.tst time-stamped ").And.Contain($"renewed {archive}: {Path.GetFileName(archive)}.renewal-1.tst time-stamped "));

        // The TSA of the node's cached global configuration, verified against its anchor.
        var fromConfiguration = await XbusProcess.RunAsync("audit", "renew", archive, "--data", Path.Combine(_bus.Root, "client"), "--anchor", Path.Combine(_bus.Root, "anchor.json"), "--hash", "sha384");
        Assert.That(fromConfiguration.Exit, Is.Zero, fromConfiguration.ToString());

        var bundleCheck = await XbusProcess.RunAsync("audit", "verify-bundle", bundle, "--trust-root", root);
        var archiveCheck = await XbusProcess.RunAsync("audit", "verify-archive", archive, "--trust-root", root);
        Assert.That(bundleCheck.Exit, Is.Zero, bundleCheck.ToString());
        Assert.That(bundleCheck.Output, Does.Contain($"renewed 1 time(s), last {Head}renewal-1.tst at "));
        Assert.That(archiveCheck.Exit, Is.Zero, archiveCheck.ToString());
        Assert.That(archiveCheck.Output, Does.Contain($"2 renewal(s); last time-stamp {Path.GetFileName(archive)}.renewal-2.tst at "));
        Assert.That(archiveCheck.Error, Is.Empty, "no warning: the TSA certificate holds for two years");

        // An operator's monthly job: renew the archives due (here: within 1,000 days, so this one), then archive the next period.
        using (var local = _bus.LocalChannel())
        {
            await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
            {
                Service = BusFixture.Service,
                Client = BusFixture.ClientSubsystem,
                Payload = ByteString.CopyFromUtf8("the next period"),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
        }

        await _bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        var folder = Path.GetDirectoryName(_archive)!;
        var monthly = await XbusProcess.RunAsync("audit", "archive", "--data", Path.Combine(_bus.Root, "client"), "--before", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"), "--out", folder, "--renew-within", "1000");
        Assert.That(monthly.Exit, Is.Zero, monthly.ToString());
        Assert.That(monthly.Output, Does.StartWith($"renewed {_archive}: {Path.GetFileName(_archive)}.renewal-1.tst time-stamped ").And.Contain("archived records "));
        var next = Directory.GetFiles(folder, "archive-*.zip").Order(StringComparer.Ordinal).Last();
        var linked = await XbusProcess.RunAsync("audit", "verify-archive", next, "--previous", _archive, "--trust-root", root);
        Assert.That(linked.Exit, Is.Zero, "renewals beside an archive leave the next one's link to it intact: " + linked);

        var noRoot = await XbusProcess.RunAsync("audit", "renew", bundle, "--tsa-url", _bus.Registry.HttpAddress + "/tsa");
        Assert.That(noRoot.Exit, Is.EqualTo(2));
        Assert.That(noRoot.Error, Does.StartWith("error Cli.InvalidArguments: "));
    }

    [GeneratedRegex("^<!-- run-by-test: renewed-bundle -->\\n```sh\\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex RenewedBundleBlock();

    /// <summary>The bundle unzipped into work/bundle, with the root the auditor trusts beside it as work/anchor-root.pem.</summary>
    private string Unpack(byte[] zip)
    {
        var bundle = Path.Combine(_work, "bundle");
        if (Directory.Exists(bundle))
        {
            Directory.Delete(bundle, recursive: true);
        }

        ZipFile.ExtractToDirectory(new MemoryStream(zip), bundle);
        File.WriteAllText(Path.Combine(_work, "anchor-root.pem"), _root.ExportCertificatePem() + "\n");
        return bundle;
    }

    /// <summary><paramref name="command"/> in <paramref name="folder"/> with the clock three years on.</summary>
    private static Task<OpenSslResult> ThreeYearsOnAsync(string folder, string command) => BundleTestFiles.FaketimeAsync(folder, "+3y", command);

    private EvidenceBundleVerification VerifyBundle(byte[] bundle, DateTimeOffset at) =>
        new EvidenceBundleVerifier([_root], new FakeTimeProvider(at)).Verify(new MemoryStream(bundle));

    private Task<RenewedBundle> RenewBundleAsync(byte[] bundle, DateTimeOffset at, HashAlgorithmName algorithm) =>
        EvidenceBundleRenewal.RenewAsync(bundle, [_root], Stamper(at, algorithm), new FakeTimeProvider(at));

    /// <summary>Tokens from the renewal TSA, made at <paramref name="at"/>, through the real client over HTTP.</summary>
    private TimeStamper Stamper(DateTimeOffset at, HashAlgorithmName? algorithm = null) => async (data, cancellationToken) =>
    {
        _renewalTsa.Clock.Instant = at;
        using var verifier = new TimeStampTokenVerifier([], [_root], _renewalTsa.Clock);
        return await new TimeStampClient(_renewalTsa.Http, _renewalTsa.Address, verifier).RequestForDataAsync(data, algorithm ?? HashAlgorithmName.SHA256, cancellationToken);
    };

    private async Task<byte[]> StampAsync(byte[] data, DateTimeOffset at)
    {
        var result = await Stamper(at)(data, CancellationToken.None);
        Assert.That(result.IsValid, Is.True, result.ToString());
        return result.Token.ToArray();
    }

    private static async Task WriteArchiveRenewalAsync(string archive, byte[] token)
    {
        var cms = new SignedCms();
        cms.Decode(token);
        await File.WriteAllBytesAsync(LogArchiveRenewal.TokenPath(archive, 1), token);
        await File.WriteAllBytesAsync(LogArchiveRenewal.TsaPath(archive, 1), EvidenceRenewal.Pem(cms.SignerInfos[0].Certificate!.RawData));
    }

    private string CopyArchive()
    {
        var copy = Path.Combine(_work, Path.GetFileName(_archive));
        File.Copy(_archive, copy);
        return copy;
    }

    private string WriteRoot()
    {
        var path = Path.Combine(_work, "root.pem");
        File.WriteAllText(path, _root.ExportCertificatePem() + "\n");
        return path;
    }

    /// <summary>
    /// The renewed TSA: a second TSA certificate from the bus root (five years, issued today),
    /// served by a real <see cref="TimeStampAuthority"/> on a loopback HTTP listener, whose clock
    /// the test sets to the moment a renewal is made.
    /// </summary>
    private sealed class RenewalTsa : IAsyncDisposable
    {
        private readonly TrustServicesServer _server;
        private readonly TimeStampAuthority _tsa;

        private RenewalTsa(TrustServicesServer server, TimeStampAuthority tsa, X509Certificate2 certificate, SetClock clock)
        {
            _server = server;
            _tsa = tsa;
            Certificate = certificate;
            Clock = clock;
        }

        public X509Certificate2 Certificate { get; }

        public SetClock Clock { get; }

        public Uri Address => new(_server.BaseAddress, TrustServicesEndpoints.TimeStampPath);

        public HttpClient Http => _server.Client;

        public static async Task<RenewalTsa> StartAsync(BusFixture bus)
        {
            var key = EcKeys.GenerateP256();
            var certificate = bus.Registry.Keys.Authority.Issue(new CertificateIssueRequest
            {
                Subject = CertificateNames.CentralService("VN", "Registry", "Time-Stamping Authority 2"),
                PublicKey = new PublicKey(key),
                Profile = CertificateProfile.TimeStamping,
                Validity = TimeSpan.FromDays(5 * 365),
            });
            var clock = new SetClock { Instant = DateTimeOffset.UtcNow };
            var tsa = new TimeStampAuthority(certificate, key, clock, NullLogger<TimeStampAuthority>.Instance);
            var server = await TrustServicesServer.StartAsync(tsa, bus.Registry.Services.GetRequiredService<OcspResponder>());
            return new RenewalTsa(server, tsa, certificate, clock);
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            _tsa.Dispose();
            Certificate.Dispose();
        }
    }

    /// <summary>
    /// The renewal TSA's clock: each test sets it to when its renewal is made, earlier or later
    /// than the last (FakeTimeProvider only moves forward).
    /// </summary>
    private sealed class SetClock : TimeProvider
    {
        public DateTimeOffset Instant { get; set; }

        public override DateTimeOffset GetUtcNow() => Instant;
    }
}
