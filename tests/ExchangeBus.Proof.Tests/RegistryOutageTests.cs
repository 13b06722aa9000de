// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Outages": the registry (and with it the TSA and OCSP responder) goes down, every
/// part a real process. The nodes serve from their verified cached configuration until it
/// expires, then refuse with <c>Server.ClientProxy.OutdatedGlobalConf</c> (failing closed, not
/// trusting a stale list of nodes and certificates); once the registry is back they recover by
/// themselves, and the records logged while the TSA was away are time-stamped afterwards.
/// The configuration here is valid for 20 s and fetched every 2 s (X-Road: 600 s and 60 s), so
/// the outage outlives it within a test.
/// </summary>
public sealed class RegistryOutageTests
{
    private const string ShortLived = """{ "refreshIntervalSeconds": 2, "validitySeconds": 20, "timeStampingIntervalSeconds": 2 }""";

    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync(ShortLived);

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task RegistryDownPastExpiry_NodesServeFromCache_ThenRefuseOutdatedGlobalConf_ThenRecover_AndBackFillTimeStamps()
    {
        using var local = BusChannel.Create(new Uri(_bus.ClientLocal), new BusChannelOptions());
        Assert.That(await TryCallAsync(local), Is.Null, _bus.Outputs);

        await _bus.Registry.KillAsync();

        // Served from the cache until it expires: at least the first call after the kill (the
        // cached configuration was re-signed at most half its validity ago).
        var servedFromCache = 0;
        string? refusal;
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            while ((refusal = await TryCallAsync(local)) is null)
            {
                servedFromCache++;
                await Task.Delay(TimeSpan.FromMilliseconds(250), giveUp.Token);
            }
        }

        Assert.That(servedFromCache, Is.GreaterThan(0), "calls answered from the cached configuration");
        Assert.That(refusal, Is.EqualTo(NodeErrors.OutdatedGlobalConf));

        // Back: the nodes fetch a fresh configuration on their own and answer again; meanwhile
        // every refusal says why (an outdated configuration, on one node or the other).
        _bus.Registry.Restart();
        await _bus.Registry.WaitUntilReadyAsync(ProofBus.Patience);
        var whileRecovering = new List<string>();
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            while (await TryCallAsync(local) is { } code)
            {
                whileRecovering.Add(code);
                await Task.Delay(TimeSpan.FromMilliseconds(250), giveUp.Token);
            }
        }

        // Each node fails closed on its own: the client's node may fetch the new configuration
        // before the provider's, whose refusal is then the provider side's code.
        Assert.That(whileRecovering, Is.All.AnyOf(NodeErrors.OutdatedGlobalConf, NodeErrors.ProviderOutdatedGlobalConf));
        TestContext.Progress.WriteLine($"{servedFromCache} calls served from the cache, then {NodeErrors.OutdatedGlobalConf}; {whileRecovering.Count} more refusals while recovering");

        // Every record, including those logged while the TSA was down, ends up under a time-stamped head.
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            while (await NotYetTimeStampedAsync(_bus.ProviderData) > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), giveUp.Token);
            }
        }
    }

    /// <summary>null when the call is answered, else its error code.</summary>
    private static async Task<string?> TryCallAsync(GrpcChannel local)
    {
        try
        {
            await ProofBus.CallAsync(local, "VN-CITIZEN-0000000003");
            return null;
        }
        catch (RpcException ex)
        {
            return ex.ErrorCode ?? ex.StatusCode.ToString();
        }
    }

    /// <summary>Records of a node's log not yet under a time-stamped head, as `xbus audit verify` reads them from its files.</summary>
    private async Task<long> NotYetTimeStampedAsync(string data)
    {
        var result = await Xbus.RunAsync(_bus.Root, "audit", "verify", "--data", data, "--no-record-signatures", "--json");
        Assert.That(result.Exit, Is.Zero, result.ToString());
        using var report = JsonDocument.Parse(result.Output);
        return report.RootElement.GetProperty("not_yet_time_stamped").GetInt64();
    }
}
