// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// A certificate holder who is not an auditor (a neighbour node's authentication certificate)
/// floods another node's audit API with huge queries: each is refused, the refusals cost the
/// node's message log a short record each at most, and the caller is slowed to a trickle.
/// </summary>
[NonParallelizable]
public sealed class AuditFloodTests
{
    private const int Calls = 1_000;

    [Test]
    public async Task NonAuditorFlood_IsRefused_AndBarelyGrowsTheMessageLog()
    {
        await using var bus = await BusFixture.StartAsync();
        var database = bus.ProviderNode.Log.Path;
        var before = bus.ProviderNode.Log.LastSequence();
        var sizeBefore = DatabaseBytes(database);
        using var channel = bus.AuditChannel(bus.ProviderNode, bus.ClientNode.Keys.Authentication);
        var client = new AuditService.AuditServiceClient(channel);
        var subject = new string('x', 60_000);

        var outcomes = new List<(StatusCode Status, string? Code, string? CorrelationId)>();
        foreach (var batch in Enumerable.Range(0, Calls).Chunk(8))
        {
            outcomes.AddRange(await Task.WhenAll(batch.Select(async _ =>
            {
                var refused = await Assert.ThrowsAsync<RpcException>(() => client.QueryAsync(new QueryRequest { SubjectId = subject }).ResponseAsync);
                return (refused!.StatusCode, refused.ErrorCode, refused.CorrelationId);
            })));
        }

        // Each refusal's record commits before the refusal is sent.
        var growth = DatabaseBytes(database) - sizeBefore;
        var logged = Enumerable.Range((int)before + 1, (int)(bus.ProviderNode.Log.LastSequence() - before)).Select(s => bus.ProviderNode.Log.Get(s)!.Record).ToList();
        var notAuditor = outcomes.Count(o => o.Code == AuditErrors.NotAuditor);
        var limited = outcomes.Count(o => o.Code == AuditErrors.RateLimited);
        TestContext.Progress.WriteLine($"{Calls} refused non-auditor calls with {subject.Length}-character subjects: {notAuditor} {AuditErrors.NotAuditor}, {limited} {AuditErrors.RateLimited}; "
            + $"{logged.Count} records logged; message log grew by {growth:N0} bytes; outcomes: "
            + string.Join(", ", outcomes.GroupBy(o => (o.Status, o.Code)).Select(g => $"{g.Key.Status}/{g.Key.Code ?? "no code"} x{g.Count()}")));

        Assert.That(outcomes.Select(o => (o.Status, o.Code)), Is.All.AnyOf((StatusCode.PermissionDenied, AuditErrors.NotAuditor), (StatusCode.ResourceExhausted, AuditErrors.RateLimited)));
        Assert.That(outcomes.Select(o => o.CorrelationId), Is.All.Not.Empty);
        Assert.That(limited, Is.GreaterThan(0), "the caller is rate-limited");
        Assert.That(logged.Select(r => (r.Direction, r.Status, r.Client, r.Header.Length)),
            Is.All.EqualTo((MessageDirection.AuditQuery, AuditErrors.NotAuditor, $"node:{bus.ClientNode.Node}", 0)));
        Assert.That(logged, Has.Count.EqualTo(notAuditor), "every refusal that was not rate-limited is logged");
        Assert.That(growth, Is.LessThan(1024 * 1024));
    }

    /// <summary>The database and its write-ahead log: what the disk holds for the message log.</summary>
    private static long DatabaseBytes(string database) =>
        new[] { database, database + "-wal" }.Where(File.Exists).Sum(path => new FileInfo(path).Length);
}
