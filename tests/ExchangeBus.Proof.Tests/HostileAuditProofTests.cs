// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Audit;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Grpc.Core;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 15, items 1 and 6, against separately started <c>xbus</c> processes: a neighbour
/// node's authentication certificate floods the ministry node's audit API with huge queries
/// (refused, rate-limited, a short record each at most, named by the province's node); and an
/// auditor whose certificate the registry revoked is refused by the node once its cached OCSP
/// answer runs out. The OCSP refresh interval here is 2 s (X-Road: 1200 s), so that happens
/// within the test.
/// </summary>
public sealed class HostileAuditProofTests
{
    private const string Parameters = """{ "ocspRefreshIntervalSeconds": 2, "ocspFreshnessSeconds": 60 }""";
    private const int FloodCalls = 200;

    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync(Parameters);

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task NodeCertificateFlood_IsRefusedCheaply_AndARevokedAuditorIsRefused()
    {
        var anchor = Path.Combine(_bus.Root, "anchor.json");
        var auditor = await _bus.NationalAuditorAsync();
        string[] query = ["audit", "query", "--node", _bus.ProviderPeer, "--auditor", auditor, "--anchor", anchor, "--json"];

        // Item 6: the province node's own authentication certificate, not an auditor's.
        var database = Path.Combine(_bus.ProviderData, "messagelog.db");
        var sizeBefore = DatabaseBytes(database);
        var outcomes = await FloodAsync(anchor);
        var growth = DatabaseBytes(database) - sizeBefore;
        TestContext.Progress.WriteLine($"{FloodCalls} non-auditor calls with 60,000-character subjects: "
            + string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} x{g.Count()}")) + $"; the ministry's message log grew by {growth:N0} bytes");
        Assert.That(outcomes, Is.All.AnyOf(AuditErrors.NotAuditor, AuditErrors.RateLimited));
        Assert.That(outcomes, Has.Some.EqualTo(AuditErrors.RateLimited));
        Assert.That(growth, Is.LessThan(1024 * 1024));

        var logged = await Xbus.MustAsync(_bus.Root, [.. query, "--client", $"node:{ProofBus.Province}/ss1", "--page-size", "1000"]);
        var refusals = QueryResponse.Parser.ParseJson(logged).Records;
        Assert.That(refusals, Has.Count.EqualTo(outcomes.Count(o => o == AuditErrors.NotAuditor)), logged);
        Assert.That(refusals.Select(r => (r.Status, r.SubjectId)), Is.All.EqualTo((AuditErrors.NotAuditor, string.Empty)));

        // Item 1: the auditor reads, is revoked, and is refused from the node's next OCSP answer on.
        Assert.That((await Xbus.RunAsync(_bus.Root, query)).Exit, Is.Zero);
        using (var certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(auditor, "auditor.pem")))
        {
            await Xbus.MustAsync(_bus.Root, "registry", "cert", "revoke", certificate.SerialNumber, "--reason", "keyCompromise", "--data", _bus.RegistryData);
        }

        XbusResult refused;
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            while ((refused = await Xbus.RunAsync(_bus.Root, query)).Exit == 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), giveUp.Token);
            }
        }

        Assert.That(refused.Error, Does.Contain($"error {AuditErrors.AuditorRevoked}:").And.Contain("correlation"), refused.ToString());
    }

    /// <summary>Audit queries with a 60,000-character subject, as the province's node certificate; the code each was refused with.</summary>
    private async Task<List<string?>> FloodAsync(string anchor)
    {
        var keys = Path.Combine(_bus.ClientData, "keys");
        using var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(keys, "auth.pem"), Path.Combine(keys, "auth.key.pem"));
        var roots = ConfigurationAnchor.Read(anchor).RegistryTlsTrustRoots;
        using var channel = BusChannel.Create(new Uri(_bus.ProviderPeer), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust(roots, TimeProvider.System),
            ClientCertificate = certificate,
        });
        var client = new AuditService.AuditServiceClient(channel);
        var subject = new string('x', 60_000);
        var outcomes = new List<string?>();
        for (var i = 0; i < FloodCalls; i++)
        {
            var refusal = await Assert.ThrowsAsync<RpcException>(() => client.QueryAsync(new QueryRequest { SubjectId = subject }).ResponseAsync);
            Assert.That(refusal!.CorrelationId, Is.Not.Empty);
            outcomes.Add(refusal.ErrorCode);
        }

        return outcomes;
    }

    private static long DatabaseBytes(string database) =>
        new[] { database, database + "-wal" }.Where(File.Exists).Sum(path => new FileInfo(path).Length);
}
