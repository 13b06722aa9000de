// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Node.Audit;
using Grpc.Core;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Two nodes' logs of the same exchanges, read through their audit APIs by a national auditor,
/// compared; then one log altered on disk (as an operator with write access could).
/// </summary>
[NonParallelizable]
public sealed class ReconciliationTests
{
    private BusFixture _bus = null!;
    private X509Certificate2 _auditor = null!;
    private DateTimeOffset _from;
    private List<CallResponse> _calls = null!;

    [SetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _auditor = await _bus.IssueAuditorAsync(string.Empty, "State Audit Office");
        _from = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var local = _bus.LocalChannel();
        _calls = [];
        for (var i = 0; i < 4; i++)
        {
            _calls.Add(await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
            {
                Service = BusFixture.Service,
                Client = BusFixture.ClientSubsystem,
                Payload = ByteString.CopyFromUtf8($"question {i}"),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync);
        }

        // A call the provider refuses: both log it, only the client has a signed request to compare.
        using var refusing = _bus.LocalChannel();
        await Assert.ThrowsAsync<RpcException>(() => new LocalGateway.LocalGatewayClient(refusing).CallAsync(new CallRequest { Service = BusFixture.ProviderSubsystem + "/nothing", Client = BusFixture.ClientSubsystem }).ResponseAsync);
    }

    [TearDown]
    public async Task TearDown()
    {
        _auditor.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task UntouchedLogs_Agree_OnEveryExchange()
    {
        var report = await ReconcileAsync();

        Assert.That(report.Differences, Is.Empty);
        Assert.That(report.Exchanges, Is.EqualTo(4), "the refused call never got a signed answer from the provider: not an exchange between the two");
        Assert.That(report.Matched, Is.EqualTo(4));
    }

    [Test]
    public async Task ResponseBodyHashChangedOnTheProvider_IsNamed()
    {
        var target = _bus.ProviderNode.Log.FindByMessageId(_calls[2].MessageId).Single(e => e.Record.Direction == MessageDirection.ProviderResponse);
        Records.Tamper(Path.Combine(_bus.Root, "provider", "messagelog.db"), "UPDATE records SET body_sha256 = zeroblob(32), body = NULL WHERE seq = $seq;", ("$seq", target.Sequence));

        var report = await ReconcileAsync();

        Assert.That(report.Differences.Select(d => (d.MessageId, d.Code, d.Node, d.Sequence)), Is.EqualTo(new[]
        {
            (_calls[2].MessageId, ReconcileFindings.ResponseDiffers, BusFixture.Client + "/ss1", _bus.ClientNode.Log.FindByMessageId(_calls[2].MessageId).Single(e => e.Record.Direction == MessageDirection.ClientResponse).Sequence),
        }));
    }

    [Test]
    public async Task ExchangeDeletedFromTheClientNode_IsMissingThere()
    {
        Records.Tamper(Path.Combine(_bus.Root, "client", "messagelog.db"), "DELETE FROM records WHERE message_id = $id;", ("$id", _calls[1].MessageId));

        var report = await ReconcileAsync();

        var difference = report.Differences.Single();
        Assert.That((difference.MessageId, difference.Code, difference.Node), Is.EqualTo((_calls[1].MessageId, ReconcileFindings.MissingOnOtherNode, BusFixture.Provider + "/ss1")));
        Assert.That(difference.Detail, Does.Contain(BusFixture.Client + "/ss1").And.Contain("no record"));
    }

    [Test]
    public async Task RequestSignatureReplacedOnTheProvider_IsNamed()
    {
        var target = _bus.ProviderNode.Log.FindByMessageId(_calls[0].MessageId).Single(e => e.Record.Direction == MessageDirection.ProviderRequest);
        Records.Tamper(Path.Combine(_bus.Root, "provider", "messagelog.db"), "UPDATE records SET signature = x'3006020101020101' WHERE seq = $seq;", ("$seq", target.Sequence));

        var report = await ReconcileAsync();

        Assert.That(report.Differences.Select(d => (d.Code, d.Node, d.Sequence)), Is.EqualTo(new[] { (ReconcileFindings.RequestDiffers, BusFixture.Provider + "/ss1", target.Sequence) }));
    }

    private async Task<ReconcileReport> ReconcileAsync()
    {
        var to = DateTimeOffset.UtcNow.AddMinutes(1);
        using var client = _bus.AuditChannel(_bus.ClientNode, _auditor);
        using var provider = _bus.AuditChannel(_bus.ProviderNode, _auditor);
        var query = new QueryRequest { From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(_from), To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(to) };
        var onClient = await AuditQueries.ReadAllAsync(client, query).ToListAsync();
        var onProvider = await AuditQueries.ReadAllAsync(provider, query).ToListAsync();
        return Reconciliation.Compare(_bus.ClientNode.Node.ToString(), onClient, _bus.ProviderNode.Node.ToString(), onProvider, _from, to);
    }
}

/// <summary>`xbus audit reconcile` and `xbus audit trail` as an auditor runs them, against two live nodes.</summary>
[NonParallelizable]
public sealed class AcrossNodesCommandTests
{
    [Test]
    public async Task Reconcile_AgreesThenNamesTampering_AndTrailListsEachExchangeOnce()
    {
        await using var bus = await BusFixture.StartAsync();
        using var certificate = await bus.IssueAuditorAsync(string.Empty, "State Audit Office");
        var auditor = Path.Combine(bus.Root, "auditor");
        Core.Pki.PemFiles.WriteCertificate(Path.Combine(auditor, "auditor.pem"), certificate);
        using (var key = certificate.GetECDsaPrivateKey()!)
        {
            Core.Pki.PemFiles.WritePrivateKey(Path.Combine(auditor, "auditor.key.pem"), key);
        }

        var root = Path.Combine(bus.Root, "root.pem");
        await File.WriteAllTextAsync(root, bus.Registry.Keys.RootCertificate.ExportCertificatePem());
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        using (var local = bus.LocalChannel())
        {
            foreach (var citizen in new[] { "citizen-7", "citizen-8", "citizen-7" })
            {
                await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest { Service = BusFixture.Service, Client = BusFixture.ClientSubsystem, SubjectId = citizen, Payload = ByteString.CopyFromUtf8("?") }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
            }
        }

        string[] nodes = ["--node", "https://" + bus.ClientNode.PeerAddress, "--node", "https://" + bus.ProviderNode.PeerAddress, "--auditor", auditor, "--trust-root", root];
        string[] window = ["--from", from.ToString("O"), "--to", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O")];

        var agreed = await Cli.XbusProcess.RunAsync(["audit", "reconcile", .. nodes, .. window]);
        var trail = await Cli.XbusProcess.RunAsync(["audit", "trail", "--subject-id", "citizen-7", .. nodes, "--json"]);
        var victim = bus.ProviderNode.Log.Reader.Query(new MessageLogQuery { SubjectId = "citizen-8" }).Records.First(r => r.Direction == MessageDirection.ProviderResponse);
        Records.Tamper(Path.Combine(bus.Root, "provider", "messagelog.db"), "UPDATE records SET signature = x'3006020101020101' WHERE seq = $seq;", ("$seq", victim.Sequence));
        var disagreed = await Cli.XbusProcess.RunAsync(["audit", "reconcile", .. nodes, .. window]);

        Assert.That(agreed.Exit, Is.Zero, agreed.ToString());
        Assert.That(agreed.Output, Does.Contain("3 exchanges between them, 3 logged the same on both"));
        Assert.That(trail.Exit, Is.Zero, trail.ToString());
        var entries = System.Text.Json.JsonDocument.Parse(trail.Output).RootElement.EnumerateArray().ToList();
        Assert.That(entries, Has.Count.EqualTo(2));
        Assert.That(entries.Select(e => e.GetProperty("seenOn").GetArrayLength()), Is.All.EqualTo(2));
        Assert.That(entries.Select(e => e.GetProperty("outcome").GetString()), Is.All.EqualTo("answered"));
        Assert.That(disagreed.Exit, Is.EqualTo(1), disagreed.ToString());
        Assert.That(disagreed.Output, Does.Contain($"{ReconcileFindings.ResponseDiffers} message {victim.MessageId}"));
    }
}
