// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Merkle;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>Closed periods of a live node's log archived to zips that prove themselves, chained, then pruned.</summary>
[NonParallelizable]
public sealed class LogArchiveTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;
    private string _archives = null!;
    private string _logPath = null!;

    [SetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        _local = _bus.LocalChannel();
        _archives = Path.Combine(_bus.Root, "archives");
        _logPath = Path.Combine(_bus.Root, "client", "messagelog.db");
    }

    [TearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task TwoPeriods_ArchiveToLinkedFiles_ThatVerifyOnTheirOwn_WithTheirTokens()
    {
        var first = await ArchivePeriodAsync(calls: 3);
        var second = await ArchivePeriodAsync(calls: 2);

        Assert.That((first.FromSequence, first.ToSequence, second.FromSequence, second.ToSequence), Is.EqualTo((1L, 6L, 7L, 10L)));
        var manifest = LogArchiver.Verify(second.Path, first.Path, Roots, TimeProvider.System).Manifest;
        Assert.That(manifest.PreviousArchiveSha256, Is.EqualTo(first.Sha256));
        Assert.That(manifest.TreeHeadSizes, Is.EqualTo(new long[] { 10 }));
        Assert.That(LogArchiver.Verify(first.Path, null, Roots, TimeProvider.System).Manifest.PreviousArchiveSha256, Is.Empty);
        Assert.That(Assert.Throws<ArchiveException>(() => LogArchiver.Archive(_logPath, Node, _archives, DateTimeOffset.UtcNow.AddMinutes(1), TimeProvider.System))!.Code,
            Is.EqualTo(ArchiveErrors.NothingToArchive), "each record is archived once");
    }

    [Test]
    public async Task NothingTimeStamped_IsNotArchived()
    {
        await CallAsync();

        var refused = Assert.Throws<ArchiveException>(() => LogArchiver.Archive(_logPath, Node, _archives, DateTimeOffset.UtcNow.AddMinutes(1), TimeProvider.System));

        Assert.That(refused!.Code, Is.EqualTo(ArchiveErrors.NotTimeStamped));
    }

    [Test]
    public async Task Pruning_RemovesOnlyArchivedRecords_AndTheLogStillVerifiesAndProvesAndGrows()
    {
        var archived = await ArchivePeriodAsync(calls: 3);
        await CallAsync(); // records 7 and 8: not archived

        var removed = LogArchiver.Prune(_logPath, DateTimeOffset.UtcNow.AddMinutes(1), TimeProvider.System);

        var log = _bus.ClientNode.Log;
        Assert.That(removed, Is.EqualTo(archived.ToSequence));
        Assert.That(log.Get(1), Is.Null);
        Assert.That(log.Get(archived.ToSequence + 1), Is.Not.Null);
        Assert.That(log.Verify().IsValid, Is.True, "the chain goes on from the archive's last hash");
        await CallAsync();
        await _bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        var size = log.LastSequence();
        var root = log.Reader.TreeRoot(size);
        Assert.That(root, Is.EqualTo(log.Reader.LatestTreeHead()!.RootHash));
        var proof = log.Reader.InclusionProof(size - 1, size);
        Assert.That(MerkleVerifier.VerifyInclusion(size - 2, size, MerkleHash.HashLeaf(log.Get(size - 1)!.Hash), proof, root).IsValid, Is.True);
        Assert.That(LogArchiver.Prune(_logPath, DateTimeOffset.UtcNow.AddMinutes(1), TimeProvider.System), Is.Zero, "nothing more is archived");
        var verified = await Cli.XbusProcess.RunAsync("audit", "verify", "--data", Path.Combine(_bus.Root, "client"));
        Assert.That(verified.Exit, Is.Zero, verified.ToString());
    }

    [Test]
    public async Task ArchiveWithARecordAltered_IsRefused_WhetherOrNotTheManifestWasFixedUp()
    {
        var archive = await ArchivePeriodAsync(calls: 2);
        var altered = Path.Combine(_bus.Root, "altered.zip");
        Rewrite(archive.Path, altered, "records.bin", bytes => bytes[^5] ^= 1, fixManifest: false);
        var fixedUp = Path.Combine(_bus.Root, "fixed-up.zip");
        Rewrite(archive.Path, fixedUp, "records.bin", bytes => bytes[^5] ^= 1, fixManifest: true);

        Assert.That(Assert.Throws<ArchiveException>(() => LogArchiver.Verify(altered, null, null, TimeProvider.System))!.Code, Is.EqualTo(ArchiveErrors.Malformed));
        Assert.That(Assert.Throws<ArchiveException>(() => LogArchiver.Verify(fixedUp, null, null, TimeProvider.System))!.Code, Is.AnyOf(ArchiveErrors.ChainBroken, ArchiveErrors.Malformed));
    }

    [Test]
    public async Task ArchivesOutOfOrder_AreNotLinked()
    {
        var first = await ArchivePeriodAsync(calls: 1);
        var second = await ArchivePeriodAsync(calls: 1);

        var refused = Assert.Throws<ArchiveException>(() => LogArchiver.Verify(first.Path, second.Path, null, TimeProvider.System));

        Assert.That(refused!.Code, Is.EqualTo(ArchiveErrors.NotLinked));
    }

    [Test]
    public async Task XbusAuditArchive_ThenVerifyArchive_AsAnOperatorWould()
    {
        for (var i = 0; i < 2; i++)
        {
            await CallAsync();
        }

        await _bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        var root = Path.Combine(_bus.Root, "root.pem");
        await File.WriteAllTextAsync(root, _bus.Registry.Keys.RootCertificate.ExportCertificatePem());

        var (exit, output, _) = await Cli.XbusProcess.RunAsync("audit", "archive", "--data", Path.Combine(_bus.Root, "client"), "--before", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"), "--out", _archives, "--json");
        Assert.That(exit, Is.Zero, output);
        var file = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("path").GetString()!;
        var verified = await Cli.XbusProcess.RunAsync("audit", "verify-archive", file, "--trust-root", root);
        Assert.That(verified.Exit, Is.Zero, verified.ToString());
        Assert.That(verified.Output, Does.Contain("records 1–4, 1 tree heads: verified"));

        var again = await Cli.XbusProcess.RunAsync("audit", "archive", "--data", Path.Combine(_bus.Root, "client"), "--before", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"), "--out", _archives);
        Assert.That(again.Exit, Is.EqualTo(2));
        Assert.That(again.Error, Does.Contain($"error {ArchiveErrors.NothingToArchive}"));
    }

    private string Node => _bus.ClientNode.Node.ToString();

    private async Task<ArchiveResult> ArchivePeriodAsync(int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            await CallAsync();
        }

        await _bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        return LogArchiver.Archive(_logPath, Node, _archives, DateTimeOffset.UtcNow.AddMinutes(1), TimeProvider.System);
    }

    /// <summary>Only the bus root: each head's token is judged at its own time against it.</summary>
    private System.Security.Cryptography.X509Certificates.X509Certificate2[] Roots => [_bus.Registry.Keys.RootCertificate];

    private Task<CallResponse> CallAsync() =>
        new LocalGateway.LocalGatewayClient(_local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8("archived question"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;

    private static void Rewrite(string source, string target, string entryName, Action<byte[]> change, bool fixManifest)
    {
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using (var zip = ZipFile.OpenRead(source))
        {
            foreach (var entry in zip.Entries)
            {
                using var stream = entry.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                entries[entry.FullName] = copy.ToArray();
            }
        }

        var original = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(entries[entryName]));
        change(entries[entryName]);
        if (fixManifest)
        {
            var manifest = System.Text.Encoding.UTF8.GetString(entries["manifest.json"]);
            entries["manifest.json"] = System.Text.Encoding.UTF8.GetBytes(manifest.Replace(original, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(entries[entryName])), StringComparison.Ordinal));
        }

        using var output = ZipFile.Open(target, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var stream = output.CreateEntry(name).Open();
            stream.Write(bytes);
        }
    }
}
