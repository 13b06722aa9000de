// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.Json;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>Runs the @grpc/grpc-js peer in tests/interop-node as child processes.</summary>
internal static class NodeInterop
{
    public static string Folder { get; } = Path.Combine(RepositoryRoot(), "tests", "interop-node");

    /// <summary>Fails (never skips) when the peer is not installed: the test command installs it.</summary>
    public static void RequireInstalled()
    {
        if (!Directory.Exists(Path.Combine(Folder, "node_modules", "@grpc", "grpc-js")))
        {
            Assert.Fail($"The grpc-js peer is not installed: run `npm ci` in {Folder} (the README's test command does).");
        }
    }

    public static async Task<JsonElement> RunClientAsync(string scenario, int port, CertificateFiles files)
    {
        using var process = Start(
            "client.js", "--scenario", scenario, "--target", $"127.0.0.1:{port}",
            "--ca", files.Ca, "--cert", files.ClientCert, "--key", files.ClientKey, "--server-name", "localhost");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var output = (await stdout).Trim();
        Assert.That(process.ExitCode, Is.Zero, $"client.js {scenario} failed: {output} {await stderr}");
        return JsonDocument.Parse(output.Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>Starts server.js and waits for its LISTENING line; closing stdin stops it.</summary>
    public static async Task<(Process Process, int Port)> StartServerAsync(CertificateFiles files)
    {
        var process = Start("server.js", "--port", "0", "--ca", files.Ca, "--cert", files.ServerCert, "--key", files.ServerKey);
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("LISTENING ", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"server.js did not start: '{line}'");
        }

        return (process, int.Parse(line!["LISTENING ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static Process Start(string script, params string[] args)
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

internal sealed record CertificateFiles(string Ca, string ServerCert, string ServerKey, string ClientCert, string ClientKey)
{
    public static CertificateFiles Write(string directory)
    {
        var certs = TestCertificates.Instance;
        var (ca, _) = TestCertificates.WritePem(certs.Root, directory, "ca");
        var (serverCert, serverKey) = TestCertificates.WritePem(certs.Server, directory, "server");
        var (clientCert, clientKey) = TestCertificates.WritePem(certs.Client, directory, "client");
        return new CertificateFiles(ca, serverCert, serverKey, clientCert, clientKey);
    }
}
