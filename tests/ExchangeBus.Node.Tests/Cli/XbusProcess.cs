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
    public static Task<XbusResult> RunAsync(params string[] arguments) => RunAsync(new Dictionary<string, string>(), arguments);

    /// <summary>Runs xbus with <paramref name="environment"/> as its only XBUS_ variables.</summary>
    public static async Task<XbusResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "xbus.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        ExchangeBus.Tests.Shared.Xbus.WithoutSettings(info);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new XbusResult(process.ExitCode, await output, await error);
    }
}
