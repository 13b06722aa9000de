// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.Json;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Grpc;
using ExchangeBus.Node;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Grpc.Core;
using Grpc.Net.Client;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 15, items 2 and 3, as an attacker tried them: separately started <c>xbus</c> processes,
/// driven through <c>xbus</c> commands and openssl only. One bus for both, since a bus costs
/// most of the suite's time.
/// <list type="number">
/// <item>The administrator certificate `registry init` made is revoked (by a second administrator
/// the registry issued): OCSP answers revoked, and the registry refuses it with
/// <c>Registry.CertificateRevoked</c>.</item>
/// <item>A node's authentication certificate is revoked: the next configuration leaves the node
/// out, and the provider's node refuses it with <c>Server.ServerProxy.UnregisteredNode</c>.</item>
/// </list>
/// </summary>
public sealed class HostileRevocationProofTests
{
    // Nodes fetch the configuration every 2 s, so a revocation reaches them within the test.
    private const string QuickRefresh = """{ "refreshIntervalSeconds": 2, "validitySeconds": 60 }""";

    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync(QuickRefresh);

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task RevokedAdministratorAndRevokedNodeCertificate_AreRefusedByEveryProcess()
    {
        var registry = _bus.RegistryData;
        var keys = Path.Combine(registry, "keys");

        // ---- item 2: administrators ----
        // A second administrator, issued by the registry from an openssl CSR.
        await OpenSslAsync("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "admin2.key.pem", "-subj", "/CN=admin2", "-out", "admin2.csr.pem");
        await Xbus.MustAsync(_bus.Root, "registry", "admin", "issue", "--csr", "admin2.csr.pem", "--name", "Second Administrator", "--out", "admin2.pem", "--data", registry);
        string[] asSecond = ["--data", registry, "--admin-cert", Path.Combine(_bus.Root, "admin2.pem"), "--admin-key", Path.Combine(_bus.Root, "admin2.key.pem")];

        var initAdmin = Certificates(await Xbus.MustAsync(_bus.Root, ["registry", "cert", "list", "--json", .. asSecond]))
            .Single(c => c.Profile == "Administrator" && c.Subject.Contains("Central Authority Administrator", StringComparison.Ordinal));
        Assert.That(await OcspAsync(Path.Combine(keys, "admin.pem")), Does.Contain(": good"));

        await Xbus.MustAsync(_bus.Root, ["registry", "cert", "revoke", initAdmin.Serial, "--reason", "keyCompromise", .. asSecond]);

        Assert.That(await OcspAsync(Path.Combine(keys, "admin.pem")), Does.Contain(": revoked"));
        var refused = await Xbus.RunAsync(_bus.Root, "registry", "member", "list", "--data", registry);
        Assert.That(refused.Exit, Is.EqualTo(2), refused.ToString());
        Assert.That(refused.Error, Does.Contain(RegistryErrors.CertificateRevoked));
        var audit = await Xbus.MustAsync(_bus.Root, ["registry", "audit-log", "query", "--limit", "1000", .. asSecond]);
        Assert.That(audit, Does.Contain("administrator.issue"));
        Assert.That(audit, Does.Contain("certificate.revoke"));
        Assert.That(audit, Does.Contain(RegistryErrors.CertificateRevoked), "the refused call is in the admin audit log");

        // ---- item 3: a node's authentication certificate ----
        using var local = BusChannel.Create(new Uri(_bus.ClientLocal), new BusChannelOptions());
        Assert.That(await TryCallAsync(local), Is.Null, _bus.Outputs);
        var province = Certificates(await Xbus.MustAsync(_bus.Root, ["registry", "cert", "list", "--json", .. asSecond]))
            .Single(c => c.Profile == "NodeAuthentication" && c.Subject.Contains("000.00.00.P01", StringComparison.Ordinal));

        await Xbus.MustAsync(_bus.Root, ["registry", "cert", "revoke", province.Serial, "--reason", "keyCompromise", .. asSecond]);

        // The ministry's node fetches the next configuration, which no longer lists the province's
        // node; from then on the province's calls are refused there, on the connection the
        // province's node already had open.
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            while (HeldNodes(_bus.ProviderData).Contains(ProofBus.Province + "/ss1"))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), giveUp.Token);
            }
        }

        Assert.That(HeldNodes(_bus.ProviderData), Does.Contain(ProofBus.Transport + "/ss1"));
        // (The cache is written just before the node installs it: a call may still pass in between.)
        string? code;
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            while ((code = await TryCallAsync(local)) is null)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), giveUp.Token);
            }
        }

        Assert.That(code, Is.EqualTo(NodeErrors.UnregisteredNode), _bus.Outputs);
    }

    private sealed record Certificate(string Serial, string Profile, string Subject);

    private static List<Certificate> Certificates(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("certificates").EnumerateArray()
            .Select(c => new Certificate(c.GetProperty("serial_number").GetString()!, c.GetProperty("profile").GetString()!, c.GetProperty("subject").GetString()!))
            .ToList();
    }

    /// <summary>The nodes listed by the signed configuration a node holds (its cache, globalconf.bin, written as it installs one).</summary>
    private static List<string> HeldNodes(string nodeData)
    {
        var signed = SignedGlobalConfiguration.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(nodeData, "globalconf.bin")));
        var configuration = GlobalConfiguration.Parser.ParseFrom(signed.Configuration);
        return configuration.Nodes.Select(n => $"{configuration.Instance}/{n.OwnerClass}/{n.OwnerCode}/{n.NodeCode}").ToList();
    }

    private async Task<string> OcspAsync(string certificate)
    {
        var keys = Path.Combine(_bus.RegistryData, "keys");
        using var endpoints = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_bus.RegistryData, "endpoints.json")));
        var http = endpoints.RootElement.GetProperty("Http").GetString()!;
        return await OpenSslAsync("ocsp", "-issuer", Path.Combine(keys, "root-ca.pem"), "-cert", certificate, "-url", http + "/ocsp",
            "-CAfile", Path.Combine(keys, "root-ca.pem"));
    }

    private async Task<string> OpenSslAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = _bus.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"openssl {string.Join(' ', arguments)}\n{await output}{await error}");
        return await output + await error;
    }

    /// <summary>null when the call is answered, else its error code.</summary>
    private static async Task<string?> TryCallAsync(GrpcChannel local)
    {
        try
        {
            await ProofBus.CallAsync(local, "VN-CITIZEN-0000000015");
            return null;
        }
        catch (RpcException ex)
        {
            return ex.ErrorCode ?? ex.StatusCode.ToString();
        }
    }
}
