// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.Json;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>Runs the @grpc/grpc-js peer in tests/interop-node (client.js, server.js) as child processes.</summary>
internal static class NodeInterop
{
    public static void RequireInstalled() => NodeScript.RequireInstalled();

    public static Task<JsonElement> RunClientAsync(string scenario, int port, CertificateFiles files) => NodeScript.RunJsonAsync(
        "client.js", "--scenario", scenario, "--target", $"127.0.0.1:{port}",
        "--ca", files.Ca, "--cert", files.ClientCert, "--key", files.ClientKey, "--server-name", "localhost");

    /// <summary>Starts server.js and waits for its LISTENING line; closing stdin stops it.</summary>
    public static async Task<(Process Process, int Port)> StartServerAsync(CertificateFiles files)
    {
        var process = NodeScript.Start("server.js", "--port", "0", "--ca", files.Ca, "--cert", files.ServerCert, "--key", files.ServerKey);
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
