// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// <c>xbus node serve</c> as a real process (the xbus.dll copied into the test output), on
/// loopback ports of its own, so a test can stop it as a service manager does (SIGTERM) or kill
/// it the way a crash would (SIGKILL). Disposing kills it.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly XbusServer _server;

    private NodeProcess(XbusServer server, int localPort)
    {
        _server = server;
        LocalAddress = $"http://127.0.0.1:{localPort}";
    }

    /// <summary>http://host:port of the node's local (agency) gRPC listener.</summary>
    public string LocalAddress { get; }

    /// <summary>The last lines the node wrote (stdout and stderr together), for failure messages.</summary>
    public string Output => _server.Output;

    /// <summary>Everything the node wrote (stdout and stderr, every start), as an operator's log file would hold it.</summary>
    public string TranscriptPath => _server.TranscriptPath;

    /// <summary>Starts <c>xbus node serve</c> on an enrolled data folder; <paramref name="extra"/> adds options (file sync's retry policy, say).</summary>
    public static NodeProcess Start(BusFixture.EnrolledNode node, params string[] extra)
    {
        var localPort = BusFixture.FreePort();
        var metricsPort = BusFixture.FreePort();
        var server = XbusServer.Start(
            "node " + Path.GetFileName(node.Paths.DataDirectory), Path.GetDirectoryName(node.Paths.DataDirectory)!, $"http://127.0.0.1:{metricsPort}/health/ready",
            [
            "node", "serve",
            "--data", node.Paths.DataDirectory,
            "--peer-listen", $"127.0.0.1:{node.PeerPort}",
            "--development", "--local-listen", $"127.0.0.1:{localPort}",
            "--metrics-listen", $"127.0.0.1:{metricsPort}",
            .. extra,
            ]);
        return new NodeProcess(server, localPort);
    }

    /// <summary>Polls /health/ready until the node has a configuration in date; fails if the process exits first.</summary>
    public Task WaitUntilReadyAsync(TimeSpan patience) => _server.WaitUntilReadyAsync(patience);

    /// <summary>SIGTERM, then waits for the process to end by itself; returns its exit code.</summary>
    public Task<int> TerminateAsync(TimeSpan patience) => _server.TerminateAsync(patience);

    /// <summary>SIGKILL: no shutdown code runs, the files stay as they are.</summary>
    public Task KillAsync() => _server.KillAsync();

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
