// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Tests.Shared;
using Google.Protobuf;

namespace ExchangeBus.Proof.Tests.Infrastructure;

/// <summary>
/// A whole bus as operators run it (docs/deploy.md): the registry, the Ministry of Transport's
/// node with the sample licence service behind it, and a province's node whose one-stop system
/// calls it — four <c>xbus</c> processes, each with its own data folder and settings file,
/// set up only through <c>xbus</c> commands. The registry approves registrations itself here;
/// DeployGuideTests walks the approval by hand.
/// </summary>
internal sealed class ProofBus : IAsyncDisposable
{
    public const string Transport = "VN/GOV/000.00.00.G01";
    public const string Province = "VN/GOV/000.00.00.P01";
    public const string Client = Province + "/one-stop";
    public const string Service = Transport + "/driving-licence/checkLicence/v1";

    /// <summary>The licence office receives the province's citizen files (docs/files.md).</summary>
    public const string FileRecipient = Transport + "/driving-licence";

    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private readonly List<XbusServer> _servers = [];

    private ProofBus(string root) => Root = root;

    public string Root { get; }

    public XbusServer Registry { get; private set; } = null!;

    public XbusServer ProviderNode { get; private set; } = null!;

    public XbusServer ClientNode { get; private set; } = null!;

    /// <summary>https://127.0.0.1:port of each node's inter-node listener (where auditors ask).</summary>
    public string ProviderPeer { get; private set; } = null!;

    public string ClientPeer { get; private set; } = null!;

    /// <summary>http://127.0.0.1:port of the province node's local listener.</summary>
    public string ClientLocal { get; private set; } = null!;

    /// <summary>http://127.0.0.1:port of the ministry node's local listener (where the licence office receives files).</summary>
    public string ProviderLocal { get; private set; } = null!;

    public string ProviderData => Path.Combine(Root, "transport");

    public string ClientData => Path.Combine(Root, "province");

    public string RegistryData => Path.Combine(Root, "registry");

    /// <param name="parameters">Global configuration parameters for `xbus registry init --parameters` (JSON), or X-Road's defaults.</param>
    public static async Task<ProofBus> StartAsync(string? parameters = null)
    {
        var bus = new ProofBus(Directory.CreateTempSubdirectory("xbus-proof-").FullName);
        try
        {
            await bus.SetUpAsync(parameters);
            return bus;
        }
        catch
        {
            await bus.DisposeAsync();
            throw;
        }
    }

    /// <summary>One call through the province's node, as its one-stop system makes it.</summary>
    public static Task<CallResponse> CallAsync(GrpcChannel local, string subject, CancellationToken cancellationToken = default) =>
        new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = Service,
            Client = Client,
            UserId = "officer-17",
            SubjectId = subject,
            Issue = "HS-2026-0042",
            Payload = ByteString.CopyFromUtf8($$"""{"licence":"{{subject}}"}"""),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync;

    /// <summary>A national auditor's folder (key and registry-issued certificate), for reconcile.</summary>
    public async Task<string> NationalAuditorAsync()
    {
        var folder = Path.Combine(Root, "auditor");
        await Xbus.MustAsync(Root, "audit", "keygen", "--out", folder, "--name", "State Audit Office");
        await Xbus.MustAsync(Root, "registry", "auditor", "issue", "--csr", Path.Combine(folder, "auditor.csr.pem"), "--name", "State Audit Office",
            "--national", "--out", Path.Combine(folder, "auditor.pem"), "--data", RegistryData);
        return folder;
    }

    public string Outputs => string.Join(Environment.NewLine, _servers.Select(s => s.Output));

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a dying process: the temp folder is cleaned some other day.
        }
    }

    private async Task SetUpAsync(string? parameters)
    {
        int Port() => LoopbackPort.PickFree();
        string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

        var (grpc, http) = (Port(), Port());
        string[] init = ["registry", "init", "--data", RegistryData, "--instance", "VN", "--auto-approve"];
        if (parameters is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(Root, "parameters.json"), parameters);
            init = [.. init, "--parameters", Path.Combine(Root, "parameters.json")];
        }

        await Xbus.MustAsync(Root, init);

        // Re-sign the configuration soon enough for short validities (its default check is every 10 s).
        var registryConfig = WriteConfig("registry.json", new { data = RegistryData, listen = Loopback(grpc), httpListen = Loopback(http), refreshCheckSeconds = 1 });
        Registry = Track(XbusServer.Start("registry", Root, $"http://{Loopback(http)}/health/ready", "registry", "serve", "--config", registryConfig));
        await Registry.WaitUntilReadyAsync(Patience);

        await Xbus.MustAsync(Root, "registry", "member-class", "add", "GOV", "--data", RegistryData);
        foreach (var (member, name, subsystem) in new[] { (Transport, "Ministry of Transport", Transport + "/driving-licence"), (Province, "Provincial People's Committee", Client) })
        {
            await Xbus.MustAsync(Root, "registry", "member", "add", member, "--name", name, "--data", RegistryData);
            await Xbus.MustAsync(Root, "registry", "subsystem", "add", subsystem, "--data", RegistryData);
        }

        var anchor = Path.Combine(Root, "anchor.json");
        await Xbus.MustAsync(Root, "registry", "anchor", "export", "--data", RegistryData, "--out", anchor);

        var backendPort = Port();
        var backend = Track(XbusServer.Start("backend", Root, $"http://{Loopback(backendPort)}/health/live", "sample-backend", "--port", backendPort.ToString(CultureInfo.InvariantCulture)));

        var (providerPeer, providerLocal, providerMetrics) = (Port(), Port(), Port());
        var (clientPeer, clientLocal, clientMetrics) = (Port(), Port(), Port());
        await Xbus.MustAsync(Root, "node", "init", "--data", ProviderData, "--anchor", anchor, "--node", Transport + "/ss1", "--address", Loopback(providerPeer));
        await Xbus.MustAsync(Root, "node", "init", "--data", ClientData, "--anchor", anchor, "--node", Province + "/ss1", "--address", Loopback(clientPeer));
        await Xbus.MustAsync(Root, "node", "service", "add", Service, "--data", ProviderData, "--backend", "http", "--address", $"http://{Loopback(backendPort)}/licence", "--timeout-ms", "10000");
        await Xbus.MustAsync(Root, "node", "acl", "allow", Service, Client, "--data", ProviderData);
        await Xbus.MustAsync(Root, "node", "client", "add", Client, "--data", ClientData);
        await Xbus.MustAsync(Root, "node", "client", "add", FileRecipient, "--data", ProviderData);
        await Xbus.MustAsync(Root, "node", "acl", "allow", FileRecipient + "/receiveFiles", Client, "--data", ProviderData);

        // A file delivery that failed is retried from half a second on, doubling, rather than from 2 s:
        // the file tests wait for a killed node to come back, not for the default back-off.
        var files = new { retryMilliseconds = 500 };
        var providerConfig = WriteConfig("transport.json", new { data = ProviderData, development = true, peerListen = Loopback(providerPeer), localListen = Loopback(providerLocal), metricsListen = Loopback(providerMetrics), files });
        var clientConfig = WriteConfig("province.json", new { data = ClientData, development = true, peerListen = Loopback(clientPeer), localListen = Loopback(clientLocal), metricsListen = Loopback(clientMetrics), files });
        ProviderNode = Track(XbusServer.Start("transport-node", Root, $"http://{Loopback(providerMetrics)}/health/ready", "node", "serve", "--config", providerConfig));
        ClientNode = Track(XbusServer.Start("province-node", Root, $"http://{Loopback(clientMetrics)}/health/ready", "node", "serve", "--config", clientConfig));
        ProviderPeer = $"https://{Loopback(providerPeer)}";
        ClientPeer = $"https://{Loopback(clientPeer)}";
        ClientLocal = $"http://{Loopback(clientLocal)}";
        ProviderLocal = $"http://{Loopback(providerLocal)}";
        await ProviderNode.WaitUntilReadyAsync(Patience);
        await ClientNode.WaitUntilReadyAsync(Patience);
        await backend.WaitUntilReadyAsync(Patience);
    }

    private XbusServer Track(XbusServer server)
    {
        _servers.Add(server);
        return server;
    }

    private string WriteConfig(string name, object settings)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, JsonSerializer.Serialize(settings));
        return path;
    }
}
