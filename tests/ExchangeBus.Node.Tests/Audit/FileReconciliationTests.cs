// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Files between two real nodes, as an auditor sees them through both audit APIs: reconciled
/// manifest by manifest and receipt by receipt, and listed on the citizen's trail with their
/// latest state; then one node's log altered on disk.
/// </summary>
[NonParallelizable]
public sealed class FileReconciliationTests
{
    private BusFixture _bus = null!;
    private X509Certificate2 _auditor = null!;
    private DateTimeOffset _from;

    [SetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _auditor = await _bus.IssueAuditorAsync(string.Empty, "State Audit Office");
        _from = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var sender = _bus.LocalChannel();
        using var recipient = _bus.ProviderLocalChannel();
        foreach (var id in new[] { "audit-file-1", "audit-file-2" })
        {
            var content = RandomContent(150_000);
            await SendAsync(sender, Metadata(id, content), content);
            Assert.That((await SettledAsync(sender, id)).State, Is.EqualTo(DeliveryState.Delivered));
        }

        await new FilesClient(recipient).AcknowledgeAsync(new AcknowledgeRequest { Recipient = BusFixture.ProviderSubsystem, Sender = BusFixture.ClientSubsystem, FileId = "audit-file-1" }).ResponseAsync;
        Assert.That((await SettledAsync(sender, "audit-file-1")).State, Is.EqualTo(DeliveryState.Acknowledged));
    }

    [TearDown]
    public async Task TearDown()
    {
        _auditor.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task UntouchedLogs_AgreeOnEveryDelivery_AndTheTrailListsEachFileOnceWithItsState()
    {
        var (onClient, onProvider) = await ReadBothAsync(new QueryRequest());
        var report = Compare(onClient, onProvider);

        Assert.That(report.Differences, Is.Empty);
        Assert.That((report.FileDeliveries, report.FilesMatched, report.FilesUndelivered), Is.EqualTo((2, 2, 0)));
        Assert.That(report.Exchanges, Is.Zero, "file records are not exchanges");

        var (clientTrail, providerTrail) = await ReadBothAsync(new QueryRequest { SubjectId = "citizen-001" });
        var trail = CitizenTrail.Merge([new NodeRecords("client", clientTrail), new NodeRecords("provider", providerTrail)]);
        Assert.That(trail.Select(e => (e.MessageId, e.Kind, e.Client, e.Service, e.Issue, e.Outcome)), Is.EqualTo(new[]
        {
            ("audit-file-1", CitizenTrail.FileKind, BusFixture.ClientSubsystem, FileDocuments.ReceiveService(Core.Identifiers.SubsystemId.Parse(BusFixture.ProviderSubsystem)).ToString(), "dossier-1", "acknowledged"),
            ("audit-file-2", CitizenTrail.FileKind, BusFixture.ClientSubsystem, FileDocuments.ReceiveService(Core.Identifiers.SubsystemId.Parse(BusFixture.ProviderSubsystem)).ToString(), "dossier-1", "delivered"),
        }));
        Assert.That(trail.Select(e => e.SeenOn), Is.All.EqualTo(new[] { "client", "provider" }));
    }

    [Test]
    public async Task ReceiptSignatureReplacedOnTheSender_IsNamedThere()
    {
        var target = _bus.ClientNode.Log.FindByMessageId("audit-file-2").Single(e => e.Record.Direction == MessageDirection.FileReceiptReceived);
        Records.Tamper(Path.Combine(_bus.Root, "client", "messagelog.db"), "UPDATE records SET signature = x'3006020101020101' WHERE seq = $seq;", ("$seq", target.Sequence));

        var report = Compare(await ReadBothAsync(new QueryRequest()));

        Assert.That(report.Differences.Select(d => (d.MessageId, d.Code, d.Node, d.Sequence)), Is.EqualTo(new[]
        {
            ("audit-file-2", ReconcileFindings.ReceiptDiffers, BusFixture.Client + "/ss1", target.Sequence),
        }));
        Assert.That((report.FileDeliveries, report.FilesMatched), Is.EqualTo((2, 1)));
    }

    [Test]
    public async Task ManifestDeletedFromTheRecipient_IsMissingThere()
    {
        Records.Tamper(Path.Combine(_bus.Root, "provider", "messagelog.db"),
            "DELETE FROM records WHERE message_id = $id AND direction = $direction;", ("$id", "audit-file-1"), ("$direction", (long)MessageDirection.FileManifestReceived));
        var manifest = _bus.ClientNode.Log.FindByMessageId("audit-file-1").Single(e => e.Record.Direction == MessageDirection.FileManifestSent);

        var report = Compare(await ReadBothAsync(new QueryRequest()));

        Assert.That(report.Differences.Select(d => (d.MessageId, d.Code, d.Node, d.Sequence)), Is.EqualTo(new[]
        {
            ("audit-file-1", ReconcileFindings.FileRecordMissing, BusFixture.Client + "/ss1", manifest.Sequence),
        }));
    }

    private ReconcileReport Compare((List<RecordSummary> OnClient, List<RecordSummary> OnProvider) logs) => Compare(logs.OnClient, logs.OnProvider);

    private ReconcileReport Compare(List<RecordSummary> onClient, List<RecordSummary> onProvider) =>
        Reconciliation.Compare(_bus.ClientNode.Node.ToString(), onClient, _bus.ProviderNode.Node.ToString(), onProvider, _from, DateTimeOffset.UtcNow.AddMinutes(1));

    private async Task<(List<RecordSummary> OnClient, List<RecordSummary> OnProvider)> ReadBothAsync(QueryRequest query)
    {
        query.From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(_from);
        query.To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(1));
        using var client = _bus.AuditChannel(_bus.ClientNode, _auditor);
        using var provider = _bus.AuditChannel(_bus.ProviderNode, _auditor);
        return (await AuditQueries.ReadAllAsync(client, query).ToListAsync(), await AuditQueries.ReadAllAsync(provider, query).ToListAsync());
    }
}
