// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.Node.Audit;
using Grpc.Core;
using ExchangeBus.Node;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Crashes" of the nodes: with every part of the bus its own process, the provider's
/// node and then the client's node are killed with SIGKILL a quarter into the load and started
/// again on the same folders while the callers go on calling. Calls fail while a node is down;
/// none that the caller saw answered may be missing from either log after the restart, none may
/// be handled twice, both logs must verify and reconcile, and every SQLite file must be sound.
/// </summary>
public sealed class NodeCrashProofTests
{
    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public Task ProviderNodeKilledMidLoad_NothingAnsweredIsLost_NothingTwice_AndTheLogsVerify() =>
        KillMidLoadAndReconcileAsync(() => _bus.ProviderNode, NodeErrors.ProviderUnreachable);

    [Test]
    public Task ClientNodeKilledMidLoad_NothingAnsweredIsLost_NothingTwice_AndTheLogsVerify() =>
        KillMidLoadAndReconcileAsync(() => _bus.ClientNode, nameof(StatusCode.Unavailable));

    private async Task KillMidLoadAndReconcileAsync(Func<XbusServer> victim, string failureWhileDown)
    {
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var load = await ProofLoad.RunAsync(_bus, ProofLoad.Duration, during: async () =>
        {
            await victim().KillAsync();
            victim().Restart();
            await victim().WaitUntilReadyAsync(ProofBus.Patience);
        });
        var to = DateTimeOffset.UtcNow.AddSeconds(1);
        var (answered, failures) = load;
        var codes = failures.GroupBy(f => f.Code).Select(g => $"{g.Key} x{g.Count()}");
        TestContext.Progress.WriteLine($"{victim().Name} killed mid-load: {answered.Count} calls answered ({load.AnsweredBefore} before the kill, {load.AnsweredAfter} after the restart), {failures.Count} failed ({string.Join(", ", codes)})");

        // While the node was down the callers were told so, and with nothing else.
        Assert.That(answered, Is.Not.Empty);
        Assert.That(failures.Select(f => f.Code).Distinct(), Is.SubsetOf(new[] { failureWhileDown }), string.Join(Environment.NewLine, failures.Take(20)));

        // The restarted node serves again.
        using (var local = BusChannel.Create(new Uri(_bus.ClientLocal), new BusChannelOptions()))
        {
            Contracts.Node.V1.CallResponse after;
            try
            {
                after = await ProofBus.CallAsync(local, "VN-CITIZEN-AFTER-RESTART");
            }
            catch (RpcException ex)
            {
                // The nodes' own logs say why (a client node logs each provider it could not reach, with the transport's reason).
                Assert.Fail($"The first call after the restart failed: {ex.Status} ({ex.ErrorCode}){Environment.NewLine}{_bus.Outputs}");
                throw;
            }

            Assert.That(after.Payload.ToStringUtf8(), Does.Contain("\"holder\":\"VN-CITIZEN-AFTER-RESTART\""));
        }

        // Reconciled through both audit APIs: every answered call is matched. A call the crash cut
        // short may be on one node only (the provider answered; the client's node died before it
        // logged the answer); such a call was not answered to its caller and is reported as missing, not as different.
        var reconciled = await ProofLoad.ReconcileAsync(_bus, from, to);
        Assert.That(reconciled.Matched, Is.GreaterThanOrEqualTo(answered.Count), reconciled.Output);
        Assert.That(reconciled.Differences.Select(d => d.MessageId).Intersect(answered, StringComparer.Ordinal), Is.Empty, reconciled.Output);
        Assert.That(reconciled.Differences.Select(d => d.Code).Distinct(), Is.SubsetOf(new[] { ReconcileFindings.ResponseMissing, ReconcileFindings.MissingOnOtherNode }), reconciled.Output);
        TestContext.Progress.WriteLine($"reconciled: {reconciled.Exchanges} exchanges, {reconciled.Matched} matched, {reconciled.Differences.Count} cut short by the crash");

        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ClientNode.Output);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ProviderNode.Output);
        await ProofLoad.AssertLogHoldsAsync(_bus, _bus.ClientData, answered, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        await ProofLoad.AssertLogHoldsAsync(_bus, _bus.ProviderData, answered, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
        Assert.That(ProofLoad.Duplicates(_bus.ClientData), Is.Empty, "a message logged twice by the client's node");
        Assert.That(ProofLoad.Duplicates(_bus.ProviderData), Is.Empty, "a request handled twice by the provider's node");
        var databases = ProofLoad.AssertEveryDatabaseSound(_bus);
        TestContext.Progress.WriteLine($"{answered.Count} answered calls on both logs; {databases} SQLite files sound");
    }
}
