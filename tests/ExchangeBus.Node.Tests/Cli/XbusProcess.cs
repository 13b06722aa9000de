// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;

namespace ExchangeBus.Node.Tests.Cli;

internal sealed record XbusResult(int Exit, string Output, string Error)
{
    public override string ToString() => $"exit {Exit}\n{Output}{Error}";
}

/// <summary>Runs the built <c>xbus</c> as an operator would: a real process, its own exit code and output.</summary>
internal static class XbusProcess
{
    public static async Task<XbusResult> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "xbus.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new XbusResult(process.ExitCode, await output, await error);
    }
}
