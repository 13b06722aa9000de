// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Cli;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>`xbus audit trail` on a streamed call: one exchange, its messages each way, its end and its chains.</summary>
public sealed partial class StreamEvidenceTests
{
    [Test]
    public async Task Trail_ShowsTheStreamedCallAsOneExchange_WithItsMessagesEachWay_ItsEnd_AndItsChainVerifying()
    {
        var logs = await TrailLogsAsync(Citizen);

        var trail = CitizenTrail.Merge(logs);

        Assert.That(logs.Select(l => l.Records.Count), Is.EqualTo(new[] { 7, 7 }), "every link and end record, on each node");
        var entry = trail.Single();
        Assert.That((entry.MessageId, entry.Kind, entry.Outcome), Is.EqualTo((_messageId, CitizenTrail.ExchangeKind, "answered")));
        Assert.That(entry.SeenOn, Is.EqualTo(logs.Select(l => l.Node).Order(StringComparer.Ordinal)));
        Assert.That(entry.Stream, Is.EqualTo(new StreamTrail(RequestMessages: 1, ResponseMessages: 3, End: "OK", ChainVerifies: true)));
    }

    [Test]
    public async Task Trail_AResponseLinkMissingFromOneNodesRecords_TheChainDoesNotVerify()
    {
        var logs = await TrailLogsAsync(Citizen);
        var provider = logs.Single(l => l.Node == _bus.ProviderNode.Node.ToString());
        var second = provider.Records.Where(r => r.Direction == (uint)MessageDirection.ProviderResponse).ElementAt(1);
        logs[logs.IndexOf(provider)] = provider with { Records = [.. provider.Records.Where(r => r != second)] };

        var entry = CitizenTrail.Merge(logs).Single();

        Assert.That(entry.Stream, Is.EqualTo(new StreamTrail(1, 3, "OK", ChainVerifies: false)), "the client's node logged all three responses");
    }

    [Test]
    public void Trail_OfAUnaryExchange_HasNoStream()
    {
        var entry = CitizenTrail.Merge([new NodeRecords("node", [new RecordSummary { MessageId = "unary-1", Direction = (uint)MessageDirection.ClientRequest, Status = MessageLogRecord.StatusOk, At = new() }])]).Single();

        Assert.That(entry.Stream, Is.Null);
    }

    [Test]
    public async Task XbusProcesses_TrailPrintsOneStreamedLine_AndExportOfOneLinkHoldsTheWholeCall()
    {
        var (auditor, root) = await BundleTestFiles.AuditorFolderAsync(_bus, _work);
        string[] trust = ["--auditor", auditor, "--trust-root", root];
        var link = _bus.ProviderNode.Log.FindByMessageId(_messageId).First(e => e.Record.Direction == MessageDirection.ProviderResponse).Sequence;
        var bundle = Path.Combine(_work, "link.zip");

        var trail = await XbusProcess.RunAsync(["audit", "trail", "--subject-id", Citizen, "--node", "https://" + _bus.ClientNode.PeerAddress, "--node", "https://" + _bus.ProviderNode.PeerAddress, .. trust]);
        var export = await XbusProcess.RunAsync(["audit", "export", "--sequence", link.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", bundle, "--node", "https://" + _bus.ProviderNode.PeerAddress, .. trust]);

        Assert.That(trail.Exit, Is.Zero, trail.ToString());
        Assert.That(trail.Output, Does.Contain($"citizen {Citizen}: 1 exchanges"));
        Assert.That(trail.Output, Does.Contain($"answered, streamed: 1 request and 3 response message(s), ended OK, chain verifies  [message {_messageId}"));
        Assert.That(export.Exit, Is.Zero, export.ToString());
        Assert.That(await File.ReadAllBytesAsync(bundle), Is.EqualTo(_bundle), "one link's export is the whole call's");
    }

    /// <summary>Both nodes' records of the citizen, as `xbus audit trail --subject-id` reads them through the audit API.</summary>
    private async Task<List<NodeRecords>> TrailLogsAsync(string subjectId)
    {
        var logs = new List<NodeRecords>();
        foreach (var node in new[] { _bus.ClientNode, _bus.ProviderNode })
        {
            using var channel = AuditChannel(node);
            logs.Add(new NodeRecords(node.Node.ToString(), await AuditQueries.ReadAllAsync(channel, new QueryRequest { SubjectId = subjectId }).ToListAsync()));
        }

        return logs;
    }
}
