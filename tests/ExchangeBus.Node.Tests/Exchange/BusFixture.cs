// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// A whole small bus in temp folders: a registry, a provider node and a client node that joined
/// through the real registration flow, and a gRPC backend behind the provider. Real sockets,
/// real mutual TLS, real SQLite files.
/// </summary>
internal sealed class BusFixture : IAsyncDisposable
{
    public const string Provider = "VN/GOV/000.00.00.H01";
    public const string ProviderSubsystem = Provider + "/registry";
    public const string Service = ProviderSubsystem + "/getCitizen/v1";
    public const string Client = "VN/GOV/000.00.00.G01";
    public const string ClientSubsystem = Client + "/licence";
    public const string BackendMethod = "/test.Backend/Echo";
    public const string DeadService = ProviderSubsystem + "/getCitizen/v0";

    /// <summary>The service the provider's access list names to let the client send it files (file sync).</summary>
    public const string FileService = ProviderSubsystem + "/receiveFiles";

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<NodeServer> _providerNodes = [];

    public string Root { get; } = Directory.CreateTempSubdirectory("xbus-bus-").FullName;

    public RegistryServer Registry { get; private set; } = null!;

    /// <summary>The provider's first node (…/ss1).</summary>
    public NodeServer ProviderNode => ProviderNodes[0];

    /// <summary>The provider's nodes, …/ss1 first; all serve the same services to the same backend.</summary>
    public IReadOnlyList<NodeServer> ProviderNodes => _providerNodes;

    public NodeServer ClientNode { get; private set; } = null!;

    /// <summary>The provider's nodes as enrolled (data folder, registered peer port), …/ss1 first.</summary>
    public IReadOnlyList<EnrolledNode> ProviderData { get; private set; } = [];

    public EnrolledNode ClientData { get; private set; } = null!;

    public int BackendCalls;

    /// <summary>A data folder that joined the bus, and the peer port the registry has for it.</summary>
    internal sealed record EnrolledNode(NodePaths Paths, int PeerPort);

    /// <summary>
    /// Starts the bus; <paramref name="peerLimits"/>, when given, replaces the providers' inter-node
    /// listener limits; <paramref name="prepared"/> runs once everything is enrolled, before any node starts;
    /// <paramref name="clientFiles"/>, when given, replaces <paramref name="files"/> on the client's (sending) node.
    /// </summary>
    public static async Task<BusFixture> StartAsync(
        bool allow = true, int providerNodes = 1, ConfigurationParameters? parameters = null, FileSyncOptions? files = null, ConnectionLimits? peerLimits = null,
        Func<BusFixture, Task>? prepared = null, FileSyncOptions? clientFiles = null)
    {
        var bus = await PrepareAsync(allow, providerNodes, parameters);
        if (prepared is not null)
        {
            await prepared(bus);
        }

        foreach (var provider in bus.ProviderData)
        {
            var node = await StartNodeAsync(provider, peerLimits, files: files);
            bus._providerNodes.Add(node);
            bus._owned.Insert(0, node);
        }

        bus.ClientNode = await StartNodeAsync(bus.ClientData, files: clientFiles ?? files);
        bus._owned.Insert(0, bus.ClientNode);
        return bus;
    }

    /// <summary>
    /// The registry, the backend and every node enrolled and configured, but no node started:
    /// for tests that run the nodes themselves (as processes, say). All the provider's nodes
    /// enrol before any node starts, so the first configuration every node fetches lists them all.
    /// </summary>
    public static async Task<BusFixture> PrepareAsync(bool allow = true, int providerNodes = 1, ConfigurationParameters? parameters = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(providerNodes, 1);
        var bus = new BusFixture();
        await bus.StartRegistryAsync(parameters ?? new ConfigurationParameters());
        var backend = await bus.StartBackendAsync();
        var anchor = Path.Combine(bus.Root, "anchor.json");
        ConfigurationAnchor.Create("VN", bus.Registry.GrpcAddress, [bus.Registry.Keys.ConfigurationSigning], [bus.Registry.Keys.RootCertificate], DateTimeOffset.UtcNow, [bus.Registry.Keys.Tls]).Write(anchor);

        var providers = new List<EnrolledNode>();
        for (var n = 1; n <= providerNodes; n++)
        {
            var provider = await EnrolAsync(bus.Root, n == 1 ? "provider" : $"provider{n}", anchor, $"{Provider}/ss{n}");
            var settings = NodeSettings.Read(provider.Paths.Settings);
            settings = settings with
            {
                Services =
                [
                    new ServiceSettings { Service = Service, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = backend, Method = BackendMethod, TimeoutMilliseconds = 5000 } },
                    new ServiceSettings { Service = DeadService, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = $"http://127.0.0.1:{FreePort()}", Method = BackendMethod } },
                ],
                AccessRules = allow
                    ? [new AccessRule { Service = Service, Subject = ClientSubsystem }, new AccessRule { Service = DeadService, Subject = ClientSubsystem }, new AccessRule { Service = FileService, Subject = ClientSubsystem }]
                    : [],

                // The provider's subsystem is a system of its node too: it receives files there.
                Clients = [new ClientSettings { Subsystem = ProviderSubsystem }],
            };
            settings.Write(provider.Paths.Settings);
            providers.Add(provider);
        }

        bus.ProviderData = providers;
        bus.ClientData = await EnrolAsync(bus.Root, "client", anchor, Client + "/ss1");
        var clientSettings = NodeSettings.Read(bus.ClientData.Paths.Settings);
        (clientSettings with { Clients = [new ClientSettings { Subsystem = ClientSubsystem }] }).Write(bus.ClientData.Paths.Settings);
        return bus;
    }

    /// <summary>Stops one of the provider's nodes for good: its peer port then refuses connections.</summary>
    public async Task StopProviderNodeAsync(int index)
    {
        var node = ProviderNodes[index];
        if (_owned.Remove(node))
        {
            await node.DisposeAsync();
        }
    }

    /// <summary>Starts an enrolled node on its registered peer port and loopback ports of its own.</summary>
    public static Task<NodeServer> StartNodeAsync(
        EnrolledNode node, ConnectionLimits? peerLimits = null, Action<ILoggingBuilder>? logging = null, FileSyncOptions? files = null, TimeSpan? shutdownTimeout = null)
    {
        var options = new NodeServerOptions
        {
            DataDirectory = node.Paths.DataDirectory, PeerListen = $"127.0.0.1:{node.PeerPort}", Development = true, LocalListen = "127.0.0.1:0", LocalTlsListen = "127.0.0.1:0", MetricsListen = "127.0.0.1:0",
            PeerLimits = peerLimits ?? new ConnectionLimits(),
            Files = files ?? new FileSyncOptions(),
        };
        return NodeServer.StartAsync(shutdownTimeout is { } timeout ? options with { ShutdownTimeout = timeout } : options, logging);
    }

    /// <summary>The provider's node's local (development) listener, where its systems receive files.</summary>
    public GrpcChannel ProviderLocalChannel() => BusChannel.Create(new Uri(ProviderNode.LocalAddress), new BusChannelOptions());

    public GrpcChannel LocalChannel() => BusChannel.Create(new Uri(ClientNode.LocalAddress), new BusChannelOptions());

    /// <summary>
    /// A channel to the provider's inter-node listener, as a neighbour node would open it: the
    /// bus's root for the server, <paramref name="clientCertificate"/> for mutual TLS.
    /// </summary>
    public GrpcChannel PeerChannel(X509Certificate2 clientCertificate) => BusChannel.Create(
        new Uri($"https://{ProviderNode.PeerAddress}"),
        new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([Registry.Keys.RootCertificate], TimeProvider.System),
            ClientCertificate = clientCertificate,
        });

    /// <summary>A request from the client's subsystem (or <paramref name="client"/>) to the provider's service, created now.</summary>
    public MessageHeader RequestHeader(string client = ClientSubsystem) => new()
    {
        Kind = MessageKind.Request,
        MessageId = Guid.NewGuid().ToString("N"),
        Client = client,
        Service = Service,
        CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        SenderNode = ClientNode.Node.ToString(),
    };

    /// <summary>Signs as the client node does: its member's key and certificate, and its current OCSP response.</summary>
    public SignedEnvelope SignAsClient(MessageHeader header, string body = "hello")
    {
        var context = ClientNode;
        var headerBytes = header.ToByteArray();
        var bodyBytes = System.Text.Encoding.UTF8.GetBytes(body);
        return new SignedEnvelope
        {
            Header = ByteString.CopyFrom(headerBytes),
            Body = ByteString.CopyFrom(bodyBytes),
            Signature = ByteString.CopyFrom(context.Keys.Signer.Sign(headerBytes, bodyBytes)),
            SignerCertificate = ByteString.CopyFrom(context.Keys.SigningCertificateDer),
            SignerOcspResponse = ByteString.CopyFrom(context.OwnStatus.Current()),
        };
    }

    private async Task StartRegistryAsync(ConfigurationParameters parameters)
    {
        var data = Path.Combine(Root, "registry");
        var keysDirectory = Path.Combine(data, RegistryKeys.Folder);
        new DevelopmentPki(TimeProvider.System).Create(new DevelopmentPkiOptions { OutputDirectory = keysDirectory, Instance = "VN" });
        using (var keys = RegistryKeys.Load(keysDirectory, TimeProvider.System))
        {
            var database = RegistryDatabase.Open(data);
            RegistryStore.Initialise(database, keys, TimeProvider.System, "VN", parameters);
            new RegistryStore(database, keys, TimeProvider.System).SetAutoApprove("test", true);
        }

        Registry = await RegistryServer.StartAsync(new RegistryServerOptions { DataDirectory = data, GrpcListen = "127.0.0.1:0", HttpListen = "127.0.0.1:0" });
        _owned.Add(Registry);
        using var admin = AdministratorChannel.Open(Registry.GrpcAddress, keysDirectory, TimeProvider.System);
        await new RegistryManagement.RegistryManagementClient(admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        foreach (var (member, name, subsystem) in new[] { (Provider, "Ministry of Public Security", ProviderSubsystem), (Client, "Ministry of Transport", ClientSubsystem) })
        {
            await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = member, Name = name }).ResponseAsync;
            await new RegistryManagement.RegistryManagementClient(admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = subsystem }).ResponseAsync;
        }
    }

    public GrpcChannel AdminChannel() => AdministratorChannel.Open(Registry.GrpcAddress, Path.Combine(Root, "registry", RegistryKeys.Folder), TimeProvider.System);


    private static async Task<EnrolledNode> EnrolAsync(string root, string name, string anchor, string node)
    {
        var port = FreePort();
        var paths = new NodePaths(Path.Combine(root, name));
        var status = await NodeEnrollment.InitAsync(paths, anchor, NodeId.Parse(node), $"127.0.0.1:{port}", TimeProvider.System, CancellationToken.None);
        Assert.That(status.State, Is.EqualTo(RegistrationState.Approved));
        return new EnrolledNode(paths, port);
    }

    public static int FreePort() => Core.LoopbackPort.PickFree();

    /// <summary>How long the backend works on a call whose payload is "pause" (under the service's 5 s deadline).</summary>
    public static readonly TimeSpan PauseDuration = TimeSpan.FromSeconds(3);

    /// <summary>A gRPC backend that answers "echo:" + the payload, or waits when asked to ("slow": past any deadline; "pause": <see cref="PauseDuration"/>).</summary>
    private async Task<string> StartBackendAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseBusGrpc(null)));
        builder.Services.AddBusGrpc();
        var app = builder.Build();
        app.MapBytesGrpcService(methods => methods.AddUnary(BytesGrpcMethods.Method(MethodType.Unary, "/test.Backend/Echo"), async (request, context) =>
        {
            Interlocked.Increment(ref BackendCalls);
            var text = System.Text.Encoding.UTF8.GetString(request);
            if (text == "slow")
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.CancellationToken);
            }
            else if (text == "pause")
            {
                await Task.Delay(PauseDuration, context.CancellationToken);
            }

            return System.Text.Encoding.UTF8.GetBytes($"echo:{text}:{context.RequestHeaders.GetValue("x-xbus-client")}");
        }));
        await app.StartAsync();
        _owned.Add(new AppDisposer(app));
        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).ToString().TrimEnd('/');
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class AppDisposer(WebApplication app) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
