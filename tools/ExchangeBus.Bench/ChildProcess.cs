// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Globalization;
using ExchangeBus.Cli.Internal;

namespace ExchangeBus.Bench;

/// <summary>Memory of one process from /proc, in MB (10⁶ bytes, as the aims are): the peak resident set (VmHWM) and the current one (VmRSS).</summary>
internal sealed record ProcessMemory(string Name, double PeakMB, double ResidentMB);

/// <summary>
/// An <c>xbus</c> or <c>xbus-bench</c> subcommand run as a child process with the same runtime and
/// build as this one, its output kept in a file. Stopped with SIGTERM, the way an operator's service manager does,
/// so a node shuts down through its own path (in-flight calls finished, log flushed).
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logGate = new();
    private readonly TaskCompletionSource _readyLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyText;
    private readonly string _logPath;
    private bool _logClosed;

    private ChildProcess(string name, Process process, string logPath, string? readyText)
    {
        Name = name;
        _process = process;
        _logPath = logPath;
        _log = new StreamWriter(logPath) { AutoFlush = true };
        _readyText = readyText;
    }

    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>User and system CPU time so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <param name="name">For messages and the log file's name.</param>
    /// <param name="logDirectory">Where its standard output and error go.</param>
    /// <param name="program">xbus (a node) or this tool (a forwarder, the file sink).</param>
    /// <param name="arguments">Its arguments, e.g. <c>node serve --data …</c>.</param>
    /// <param name="readyText">A line of output that says it is ready, if it prints one.</param>
    public static ChildProcess Start(string name, string logDirectory, ChildProgram program, IEnumerable<string> arguments, string? readyText = null)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };

        // Run as `dotnet <program>.dll …` or through its apphost, the way this process was started.
        // This tool references the Cli project, so xbus.dll and its apphost are built into this
        // tool's own folder: the nodes run the build the bench was built with.
        var host = Environment.ProcessPath ?? throw new CliException("Bench.NoHost", "Cannot tell which executable runs xbus-bench.");
        var self = typeof(ChildProcess).Assembly.Location;
        var assembly = program == ChildProgram.Xbus ? Path.Combine(Path.GetDirectoryName(self)!, "xbus.dll") : self;
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.Ordinal))
        {
            info.FileName = host;
            info.ArgumentList.Add(assembly);
        }
        else
        {
            info.FileName = Path.ChangeExtension(assembly, OperatingSystem.IsWindows() ? ".exe" : null);
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, Path.Combine(logDirectory, name + ".log"), readyText);
        process.OutputDataReceived += (_, e) => child.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnOutput(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the ready line, failing at once if the process ends first.</summary>
    public async Task WaitForReadyLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var exited = _process.WaitForExitAsync(cancellationToken);
        var finished = await Task.WhenAny(_readyLine.Task, exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        if (finished != _readyLine.Task)
        {
            throw NotReady();
        }
    }

    /// <summary>Polls an HTTP readiness endpoint until it answers 200.</summary>
    public async Task WaitForReadyUrlAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until && !_process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        throw NotReady();
    }

    /// <summary>Reads VmHWM and VmRSS from /proc/PID/status (Linux; its "kB" are KiB).</summary>
    public ProcessMemory Memory()
    {
        double peak = double.NaN, resident = double.NaN;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kibibytes(line) * 1024 / 1e6;
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                resident = Kibibytes(line) * 1024 / 1e6;
            }
        }

        return new ProcessMemory(Name, peak, resident);
    }

    /// <summary>SIGTERM, then waits for it to end by itself; killed only if it does not.</summary>
    /// <returns>Its exit code, or null if it had to be killed.</returns>
    public async Task<int?> StopAsync()
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        // .NET can send SIGKILL (Process.Kill) but not SIGTERM; kill(1) can.
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            await kill!.WaitForExitAsync().ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        lock (_logGate)
        {
            _logClosed = true;
            _log.Dispose();
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logGate)
        {
            if (!_logClosed)
            {
                _log.WriteLine(line);
            }
        }

        if (_readyText is not null && line.Contains(_readyText, StringComparison.Ordinal))
        {
            _readyLine.TrySetResult();
        }
    }

    private CliException NotReady()
    {
        var state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "did not become ready in time";
        return new CliException("Bench.ChildNotReady", $"{Name} {state}; its output is in {_logPath}.");
    }

    private static long Kibibytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
}
