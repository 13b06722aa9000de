// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Testing;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>
/// <c>peerLimits</c> in <c>xbus node serve --config</c> (docs/deploy.md, "Settings files"):
/// the inter-node listener's connection limits come from the file. Checked on a node process
/// with a short idle timeout in its file: a peer holding a valid authentication certificate
/// that only pings is let go, where the default (60 s, abort at 120 s) would hold it past the
/// test's deadline.
/// </summary>
[NonParallelizable]
public sealed class PeerLimitsSettingsFileTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    // Below the default idle timeout: a pass means the file's value is the one in force.
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(45);

    [Test]
    public async Task NodeServe_PeerLimitsFromTheSettingsFile_AreTheListenersLimits()
    {
        var bus = await BusFixture.PrepareAsync();
        try
        {
            var provider = bus.ProviderData[0];
            var config = Path.Combine(bus.Root, "provider-serve.json");
            await File.WriteAllTextAsync(config, """{ "peerLimits": { "idleTimeoutSeconds": 1 } }""");
            await using var node = NodeProcess.Start(provider, "--config", config);
            await node.WaitUntilReadyAsync(Patience);

            using var keys = NodeKeys.Load(bus.ClientData.Paths);
            using var giveUp = new CancellationTokenSource(GiveUp);
            await using var peer = await RawHttp2Peer.ConnectAsync($"127.0.0.1:{provider.PeerPort}", keys.Authentication, giveUp.Token);
            await peer.WriteAsync(RawHttp2Peer.Preface(), giveUp.Token);

            Assert.That(await peer.PingUntilLetGoAsync(giveUp.Token), Is.AnyOf("GOAWAY", "connection closed"), node.Output);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            await bus.DisposeAsync();
        }
    }
}
