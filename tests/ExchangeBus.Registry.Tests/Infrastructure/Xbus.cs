// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text;

namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>Runs the real xbus command line (built next to the tests) as a separate process.</summary>
internal static class Xbus
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "xbus.dll");

    public sealed record Result(int ExitCode, string Output, string Error);

    public static Task<Result> RunAsync(params string[] args) => RunWithInputAsync(string.Empty, args);

    /// <summary>As <see cref="RunAsync"/>, with <paramref name="input"/> (a line, say a password) on standard input.</summary>
    public static async Task<Result> RunWithInputAsync(string input, params string[] args)
    {
        using var process = Start(args);
        if (input.Length > 0)
        {
            await process.StandardInput.WriteLineAsync(input);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }

    public static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start xbus");
    }

    /// <summary>Starts <c>xbus registry serve</c> on ephemeral ports and waits until it has written its endpoints.</summary>
    public static async Task<Process> StartRegistryAsync(string dataDirectory, params string[] more)
    {
        var endpoints = Path.Combine(dataDirectory, "endpoints.json");
        File.Delete(endpoints);
        var process = Start(["registry", "serve", "--data", dataDirectory, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", .. more]);
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(endpoints) || new FileInfo(endpoints).Length == 0)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("xbus registry serve did not start");
            }

            await Task.Delay(100);
        }

        return process;
    }
}
