// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Cli.Internal;

/// <summary>Loopback set-up shared by <c>xbus demo</c> and <c>xbus bench</c>.</summary>
internal static class Loopback
{
    /// <summary>
    /// A port nobody listens on right now. A node's peer address must be in its registration
    /// before it starts, so it cannot bind port 0 and report what it got.
    /// </summary>
    public static int FreePort() => Core.LoopbackPort.PickFree();

    /// <summary>An administrator's call to the registry: 30 s to answer.</summary>
    public static CallOptions AdminCall() => new(deadline: DateTime.UtcNow.AddSeconds(30));
}

/// <summary>
/// A central registry for instance VN in <c>root/registry</c> with development keys, one member
/// class (GOV), an administrator channel, and the configuration anchor written to <c>root/anchor.json</c>.
/// </summary>
internal sealed class LoopbackRegistry : IAsyncDisposable
{
    private readonly string _root;

    private readonly GrpcChannel _admin;

    private LoopbackRegistry(string root, RegistryServer server, GrpcChannel admin, ConfigurationAnchor anchor, string anchorPath)
    {
        _root = root;
        Server = server;
        _admin = admin;
        Admin = new RegistryManagement.RegistryManagementClient(admin);
        Anchor = anchor;
        AnchorPath = anchorPath;
    }

    public RegistryServer Server { get; }

    /// <summary>The management API, called with the administrator's certificate.</summary>
    public RegistryManagement.RegistryManagementClient Admin { get; }

    public ConfigurationAnchor Anchor { get; }

    public string AnchorPath { get; }

    /// <param name="root">The folder the registry's data and the anchor go in.</param>
    /// <param name="autoApprove">Approve node registrations as they arrive (the demo shows an administrator doing it instead).</param>
    /// <param name="console">Serve the web console too, on a free loopback port.</param>
    public static async Task<LoopbackRegistry> StartAsync(string root, bool autoApprove, bool console = false)
    {
        var data = Path.Combine(root, "registry");
        var keysDirectory = Path.Combine(data, RegistryKeys.Folder);
        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = keysDirectory, Instance = "VN" });
        using (var keys = RegistryKeys.Load(keysDirectory, TimeProvider.System))
        {
            var database = RegistryDatabase.Open(data);
            RegistryStore.Initialise(database, keys, TimeProvider.System, "VN", new ConfigurationParameters());
            if (autoApprove)
            {
                new RegistryStore(database, keys, TimeProvider.System).SetAutoApprove("xbus", true);
            }
        }

        var server = await RegistryServer.StartAsync(new RegistryServerOptions
        {
            DataDirectory = data,
            GrpcListen = "127.0.0.1:0",
            HttpListen = "127.0.0.1:0",
            Console = new ConsoleOptions { Listen = console ? "127.0.0.1:0" : null },
        }).ConfigureAwait(false);
        var admin = AdministratorChannel.Open(server.GrpcAddress, keysDirectory, TimeProvider.System);
        await new RegistryManagement.RegistryManagementClient(admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV", Description = "Government bodies" }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
        var anchorPath = Path.Combine(root, "anchor.json");
        var anchor = ConfigurationAnchor.Create("VN", server.GrpcAddress, [server.Keys.ConfigurationSigning], [server.Keys.RootCertificate], DateTimeOffset.UtcNow, [server.Keys.Tls]);
        anchor.Write(anchorPath);
        return new LoopbackRegistry(root, server, admin, anchor, anchorPath);
    }

    public async Task AddMemberAsync(string member, string name, string subsystem)
    {
        await Admin.AddMemberAsync(new AddMemberRequest { Member = member, Name = name }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
        await Admin.AddSubsystemAsync(new AddSubsystemRequest { Subsystem = subsystem }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>
    /// A node joins in <c>root/folder</c> with its peer listener on a free loopback port; it must
    /// be approved at once (a registry started with auto-approve).
    /// </summary>
    public async Task<(NodePaths Paths, int PeerPort)> EnrolApprovedAsync(string folder, NodeId node, CancellationToken cancellationToken)
    {
        var port = Loopback.FreePort();
        var paths = new NodePaths(Path.Combine(_root, folder));
        var status = await NodeEnrollment.InitAsync(paths, AnchorPath, node, $"127.0.0.1:{port}", TimeProvider.System, cancellationToken).ConfigureAwait(false);
        return status.State == RegistrationState.Approved
            ? (paths, port)
            : throw new CliException("Registry.RegistrationNotApproved", $"{node}'s registration is {status.State}, not approved: {status.Reason}");
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await Server.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A small Kestrel host on loopback: a sample backend, or a benchmark's forwarder.</summary>
internal sealed class LoopbackHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackHost(WebApplication app)
    {
        _app = app;
        Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    /// <summary>http://127.0.0.1:port/ as bound.</summary>
    public Uri Address { get; }

    /// <param name="port">0 for any free port.</param>
    /// <param name="grpc">Plaintext HTTP/2 with the bus's gRPC server; otherwise plain HTTP/1.1 and 2.</param>
    /// <param name="map">Maps the host's endpoints.</param>
    public static async Task<LoopbackHost> StartAsync(int port, bool grpc, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            if (grpc)
            {
                l.UseBusGrpc(null);
            }
        }));
        builder.Services.AddBusGrpc();
        var app = builder.Build();
        map(app);
        await app.StartAsync().ConfigureAwait(false);
        return new LoopbackHost(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
