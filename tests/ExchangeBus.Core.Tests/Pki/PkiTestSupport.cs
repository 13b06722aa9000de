// SPDX-License-Identifier: Apache-2.0
using System.ComponentModel;
using System.Diagnostics;

namespace ExchangeBus.Core.Tests.Pki;

/// <summary>A fresh folder under the system temp folder, removed afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("xbus-pki-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;
}

/// <summary>
/// Runs the real openssl command line: interoperability with an independent implementation is
/// the point of these tests, so a missing openssl fails them rather than skipping.
/// </summary>
internal static class OpenSsl
{
    public static async Task<ProcessResult> RunAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl")
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

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start.");
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
            return new ProcessResult(process.ExitCode, await output, await error);
        }
    }

    /// <summary>Runs openssl and fails the test, showing its output, unless it exits 0.</summary>
    public static async Task<ProcessResult> RunOkAsync(string workingDirectory, params string[] arguments)
    {
        var result = await RunAsync(workingDirectory, arguments);
        Assert.That(result.ExitCode, Is.Zero, $"openssl {string.Join(' ', arguments)}:\n{result.All}");
        return result;
    }

    /// <summary>Makes a key and CSR the way an operator would: <c>openssl req -new -newkey … -nodes -subj …</c>.</summary>
    public static async Task<string> MakeCsrAsync(TempDirectory dir, string name, string subject, params string[] keyOptions)
    {
        string[] arguments =
        [
            "req", "-new", .. keyOptions, "-nodes", "-subj", subject,
            "-keyout", dir.File(name + ".key"), "-out", dir.File(name + ".csr"),
        ];
        await RunOkAsync(dir.Path, arguments);
        return dir.File(name + ".csr");
    }
}
