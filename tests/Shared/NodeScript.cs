// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.Json;

namespace ExchangeBus.Tests.Shared;

/// <summary>Runs the Node.js scripts in tests/interop-node (grpc-js peers and clients) as child processes.</summary>
internal static class NodeScript
{
    public static string Folder { get; } = Path.Combine(RepositoryRoot(), "tests", "interop-node");

    /// <summary>Fails (never skips) when the scripts' packages are not installed: test.sh installs them.</summary>
    public static void RequireInstalled()
    {
        if (!Directory.Exists(Path.Combine(Folder, "node_modules", "@grpc", "grpc-js")))
        {
            Assert.Fail($"The grpc-js packages are not installed: run `npm ci` in {Folder} (test.sh does).");
        }
    }

    /// <summary>Runs a script that prints one JSON line and exits 0, and returns that line.</summary>
    public static async Task<JsonElement> RunJsonAsync(string script, params string[] args)
    {
        using var process = Start(script, args);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var output = (await stdout).Trim();
        Assert.That(process.ExitCode, Is.Zero, $"{script} {string.Join(' ', args)} failed: {output} {await stderr}");
        return JsonDocument.Parse(output.Split('\n')[^1]).RootElement.Clone();
    }

    public static Process Start(string script, params string[] args)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("Could not start node.");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ExchangeBus.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ExchangeBus.sln not found above " + AppContext.BaseDirectory);
    }
}
