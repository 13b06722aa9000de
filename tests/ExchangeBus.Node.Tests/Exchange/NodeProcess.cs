// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// <c>xbus node serve</c> as a real process (the xbus.dll copied into the test output), on
/// loopback ports of its own, so a test can kill it the way a crash would. Disposing kills it.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private const int KeptLines = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private NodeProcess(Process process, int localPort, int metricsPort)
    {
        _process = process;
        LocalAddress = $"http://127.0.0.1:{localPort}";
        MetricsAddress = $"http://127.0.0.1:{metricsPort}";
    }

    /// <summary>http://host:port of the node's local (agency) gRPC listener.</summary>
    public string LocalAddress { get; }

    public string MetricsAddress { get; }

    /// <summary>The last lines the node wrote (stdout and stderr together), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts <c>xbus node serve</c> on an enrolled data folder; <paramref name="extra"/> adds options (file sync's retry policy, say).</summary>
    public static NodeProcess Start(BusFixture.EnrolledNode node, params string[] extra)
    {
        var localPort = BusFixture.FreePort();
        var metricsPort = BusFixture.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "xbus.dll"), "node", "serve",
            "--data", node.Paths.DataDirectory,
            "--peer-listen", $"127.0.0.1:{node.PeerPort}",
            "--local-listen", $"127.0.0.1:{localPort}",
            "--metrics-listen", $"127.0.0.1:{metricsPort}",
        }.Concat(extra))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var started = new NodeProcess(process, localPort, metricsPort);

        // Read both pipes all along: a node whose pipe fills up blocks on its next log line.
        process.OutputDataReceived += (_, e) => started.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => started.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Polls /health/ready until the node has a configuration in date; fails if the process exits first.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan patience)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var giveUp = new CancellationTokenSource(patience);
        while (!giveUp.IsCancellationRequested)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"The node exited with code {_process.ExitCode} before it was ready:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(MetricsAddress + "/health/ready"), giveUp.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None);
        }

        Assert.Fail($"The node was not ready within {patience}:{Environment.NewLine}{Output}");
    }

    /// <summary>SIGKILL (on Linux, Process.Kill is kill -9): no shutdown code runs, the files stay as they are.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await _process.WaitForExitAsync(patience.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines)
        {
            _output.TryDequeue(out _);
        }
    }
}
