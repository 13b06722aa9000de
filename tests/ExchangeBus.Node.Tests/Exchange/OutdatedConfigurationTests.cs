// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>A node keeps working from its cached configuration while the registry is down, and fails closed once it expires.</summary>
[NonParallelizable]
public sealed class OutdatedConfigurationTests
{
    [Test]
    public async Task RegistryDown_ServesFromCacheUntilExpiry_ThenOutdatedGlobalConf()
    {
        await using var bus = await BusFixture.StartAsync();
        var paths = new NodePaths(Path.Combine(bus.Root, "client"));
        // Starts at the real time: the cached configuration was made by the running registry.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await bus.Registry.DisposeAsync();

        using var provider = new GlobalConfigurationProvider(ConfigurationAnchor.Read(paths.Anchor), paths, clock, NullLogger<GlobalConfigurationProvider>.Instance);
        var cached = provider.Current(NodeErrors.OutdatedGlobalConf);
        Assert.That(cached.SubsystemExists(Core.Identifiers.SubsystemId.Parse(BusFixture.ProviderSubsystem)), Is.True);
        Assert.That(async () => await provider.RefreshAsync(CancellationToken.None), Throws.InstanceOf<global::Grpc.Core.RpcException>(), "the registry is down");

        clock.SetUtcNow(cached.ExpiresAt + TimeSpan.FromSeconds(1));
        var ex = Assert.Throws<NodeException>(() => provider.Current(NodeErrors.OutdatedGlobalConf));
        Assert.That(ex!.Code, Is.EqualTo(NodeErrors.OutdatedGlobalConf));
        Assert.That(ex.StatusCode, Is.EqualTo(global::Grpc.Core.StatusCode.Unavailable));
    }
}
