// SPDX-License-Identifier: Apache-2.0
using System.ComponentModel;
using System.Diagnostics;

namespace ExchangeBus.Registry.Tests.TrustServices;

internal sealed record OpenSslResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;

    public override string ToString() => $"exit {ExitCode}\n{All}";
}

/// <summary>
/// Runs the real openssl command line: an independent implementation is the point of these
/// tests, so a missing openssl fails them rather than skipping.
/// </summary>
internal static class OpenSsl
{
    public static Task<OpenSslResult> RunAsync(string workingDirectory, params string[] arguments) => RunProgramAsync("openssl", workingDirectory, arguments);

    /// <summary>A command line for sh, for what needs a shell around openssl (pipes, redirections, scripts).</summary>
    public static Task<OpenSslResult> ShellAsync(string workingDirectory, string command) => RunProgramAsync("sh", workingDirectory, ["-c", command]);

    /// <summary>As <see cref="ShellAsync(string, string)"/>, with these variables set in its environment.</summary>
    public static Task<OpenSslResult> ShellAsync(string workingDirectory, string command, IReadOnlyDictionary<string, string?> environment) =>
        RunProgramAsync("sh", workingDirectory, ["-c", command], environment);

    private static async Task<OpenSslResult> RunProgramAsync(string program, string workingDirectory, string[] arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException("These tests need the openssl command (OpenSSL 3) on PATH.", ex);
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return new OpenSslResult(process.ExitCode, await output, await error);
        }
    }

    /// <summary>Runs openssl and fails the test, showing its output, unless it exits 0.</summary>
    public static async Task<OpenSslResult> RunOkAsync(string workingDirectory, params string[] arguments)
    {
        var result = await RunAsync(workingDirectory, arguments);
        Assert.That(result.ExitCode, Is.Zero, $"openssl {string.Join(' ', arguments)}:\n{result.All}");
        return result;
    }
}
