// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace ExchangeBus.Tests.Shared;

internal sealed record XbusResult(int Exit, string Output, string Error)
{
    public override string ToString() => $"exit {Exit}\n{Output}{Error}";
}

/// <summary>The built <c>xbus</c> (copied into the test output), run as an operator runs it. Linked into each test project that starts xbus processes.</summary>
internal static class Xbus
{
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "xbus.dll");

    /// <summary>Runs one command to its end in <paramref name="folder"/>.</summary>
    public static async Task<XbusResult> RunAsync(string folder, params string[] arguments)
    {
        using var process = Process.Start(Info(folder, arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new XbusResult(process.ExitCode, await output, await error);
    }

    /// <summary>Runs one command with <paramref name="input"/> on its standard input (a password), and fails the test unless it exits 0.</summary>
    public static async Task<string> MustWithInputAsync(string folder, string input, params string[] arguments)
    {
        var info = Info(folder, arguments);
        info.RedirectStandardInput = true;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteLineAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var result = new XbusResult(process.ExitCode, await output, await error);
        Assert.That(result.Exit, Is.Zero, $"xbus {string.Join(' ', arguments)}\n{result}");
        return result.Output;
    }

    /// <summary>Runs one command and fails the test unless it exits 0.</summary>
    public static async Task<string> MustAsync(string folder, params string[] arguments)
    {
        var result = await RunAsync(folder, arguments);
        Assert.That(result.Exit, Is.Zero, $"xbus {string.Join(' ', arguments)}\n{result}");
        return result.Output;
    }

    internal static ProcessStartInfo Info(string folder, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        WithoutSettings(info);
        return info;
    }

    /// <summary>
    /// Every XBUS_ variable is a serve setting (docs/deploy.md): the test's processes get none from
    /// whoever runs the tests (XBUS_PROOF_SECONDS is the tests' own knob, an unknown key to xbus),
    /// only what the test itself sets.
    /// </summary>
    public static void WithoutSettings(ProcessStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("XBUS_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }
    }
}

/// <summary>
/// A long-running <c>xbus … serve</c> process: started, checked for readiness over its health
/// URL, stopped with SIGTERM (graceful) or SIGKILL (a crash), and started again on the same
/// folder. Disposing kills it.
/// </summary>
internal sealed class XbusServer : IAsyncDisposable
{
    private const int KeptLines = 200;

    private readonly string _folder;
    private readonly string[] _arguments;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly StreamWriter _transcript;
    private Process _process;

    private XbusServer(string name, string folder, string[] arguments, string readyUrl)
    {
        Name = name;
        _folder = folder;
        _arguments = arguments;
        ReadyUrl = readyUrl;
        _transcript = new StreamWriter(Path.Combine(folder, $"{string.Join('-', name.Split(Path.GetInvalidFileNameChars().Append(' ').ToArray()))}.out"), append: true) { AutoFlush = true };
        _process = Launch();
    }

    public string Name { get; }

    public string ReadyUrl { get; }

    public int ProcessId => _process.Id;

    /// <summary>Everything the process wrote (stdout and stderr, every start), as an operator's log file would hold it.</summary>
    public string TranscriptPath => ((FileStream)_transcript.BaseStream).Name;

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Output => $"--- {Name} ---{Environment.NewLine}{string.Join(Environment.NewLine, _output)}";

    public static XbusServer Start(string name, string folder, string readyUrl, params string[] arguments) => new(name, folder, arguments, readyUrl);

    /// <summary>Starts the same command again on the same folder (after a crash or a stop).</summary>
    public void Restart()
    {
        Assert.That(_process.HasExited, Is.True, $"{Name} is still running");
        _process.Dispose();
        _process = Launch();
    }

    public async Task WaitUntilReadyAsync(TimeSpan patience)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var giveUp = new CancellationTokenSource(patience);
        while (!giveUp.IsCancellationRequested)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"{Name} exited with code {_process.ExitCode} before it was ready:{Environment.NewLine}{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(ReadyUrl), giveUp.Token);
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

        Assert.Fail($"{Name} was not ready within {patience}:{Environment.NewLine}{Output}");
    }

    /// <summary>SIGTERM, as a service manager stops it; waits for the process to end by itself and returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan patience)
    {
        // .NET can send SIGKILL (Process.Kill) but not SIGTERM; kill(1) can.
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            await kill.WaitForExitAsync();
        }

        using var giveUp = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(giveUp.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (Process.Kill on Linux is kill -9): no shutdown code runs.</summary>
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
        lock (_transcript)
        {
            _transcript.Dispose();
        }
    }

    private Process Launch()
    {
        var process = new Process { StartInfo = Xbus.Info(_folder, _arguments) };

        // Read both pipes all along: a process whose pipe fills up blocks on its next log line.
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_transcript)
        {
            if (_transcript.BaseStream is not null)
            {
                _transcript.WriteLine(line);
            }
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines)
        {
            _output.TryDequeue(out _);
        }
    }
}
