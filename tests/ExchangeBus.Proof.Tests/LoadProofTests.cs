// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Load" and "Crashes" of the registry: many callers drive the bus of real processes
/// for a bounded time; then every answered call must have its records on both nodes, the two
/// logs must reconcile message by message through the audit API, and each log must verify
/// (chain, Merkle tree, signatures) from its files after a graceful stop. The long variant is
/// behind XBUS_PROOF_SECONDS (seconds of load; 8 by default, so CI stays short).
/// </summary>
public sealed class LoadProofTests
{
    private ProofBus _bus = null!;

    private static TimeSpan LoadDuration => ProofLoad.Duration;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task ManyCallersForABoundedTime_EveryAnsweredCallIsOnBothNodes_AndTheLogsReconcileAndVerify()
    {
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (answered, failures) = await ProofLoad.RunAsync(_bus, LoadDuration, during: null);
        var to = DateTimeOffset.UtcNow.AddSeconds(1);
        TestContext.Progress.WriteLine($"load: {answered.Count} calls answered by {ProofLoad.Callers} callers in {LoadDuration.TotalSeconds:0} s, {failures.Count} failed");
        Assert.That(failures, Is.Empty, _bus.Outputs);
        Assert.That(answered, Is.Not.Empty);

        // Reconciled by a national auditor through both nodes' audit APIs, while they run.
        var reconciled = await ProofLoad.ReconcileAsync(_bus, from, to);
        Assert.That(reconciled.Exchanges, Is.EqualTo(answered.Count), reconciled.Output);
        Assert.That(reconciled.Matched, Is.EqualTo(answered.Count), reconciled.Output);
        Assert.That(reconciled.Differences, Is.Empty, reconciled.Output);

        // Stopped as a service manager stops them: both flush and exit 0.
        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ClientNode.Output);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ProviderNode.Output);

        await ProofLoad.AssertLogHoldsAsync(_bus, _bus.ClientData, answered, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        await ProofLoad.AssertLogHoldsAsync(_bus, _bus.ProviderData, answered, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
    }

    [Test]
    public async Task RegistryKilledMidLoad_TheNodesKeepAnswering_AndTheRestartedRegistryIsWhole()
    {
        var (answered, failures) = await ProofLoad.RunAsync(_bus, LoadDuration, during: async () =>
        {
            await _bus.Registry.KillAsync();

            // The nodes work from their verified cached configuration and OCSP responses.
            await Task.Delay(LoadDuration / 2);
            _bus.Registry.Restart();
            await _bus.Registry.WaitUntilReadyAsync(ProofBus.Patience);
        });
        TestContext.Progress.WriteLine($"registry killed mid-load: {answered.Count} calls answered, {failures.Count} failed");
        Assert.That(failures, Is.Empty, _bus.Outputs);
        Assert.That(answered, Is.Not.Empty);

        // The registry the crash left: its database is sound and its admin audit log's chain holds.
        Assert.That(ProofLoad.IntegrityCheck(Path.Combine(_bus.RegistryData, "registry.db")), Is.EqualTo("ok"));
        await Xbus.MustAsync(_bus.Root, "registry", "audit-log", "verify", "--data", _bus.RegistryData);

        // And it still serves: a change is accepted and published.
        await Xbus.MustAsync(_bus.Root, "registry", "member", "add", "VN/GOV/000.00.00.P02", "--name", "Another province", "--data", _bus.RegistryData);

        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ClientNode.Output);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ProviderNode.Output);
        await ProofLoad.AssertLogHoldsAsync(_bus, _bus.ClientData, answered, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        await ProofLoad.AssertLogHoldsAsync(_bus, _bus.ProviderData, answered, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
    }
}
