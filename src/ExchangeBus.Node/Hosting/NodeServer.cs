// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ExchangeBus.Node.Hosting;

public sealed record NodeServerOptions
{
    public required string DataDirectory { get; init; }

    /// <summary>Inter-node listener (mutual TLS with the authentication certificate), ip:port.</summary>
    public string PeerListen { get; init; } = "127.0.0.1:5500";

    /// <summary>
    /// Local listener for the agency's systems: plaintext HTTP/2, loopback only, for development
    /// (callers say who they are and are believed). Null turns it off; a production node must.
    /// </summary>
    public string? LocalListen { get; init; } = "127.0.0.1:5600";

    /// <summary>
    /// Local TLS listener for production systems, ip:port: each presents the certificate whose
    /// SHA-256 node.json registers for its subsystem, and may act only as that subsystem.
    /// </summary>
    public string? LocalTlsListen { get; init; }

    /// <summary>How often node.json is checked for changes (applied without a restart).</summary>
    public TimeSpan SettingsPollInterval { get; init; } = NodeSettingsSource.DefaultPollInterval;

    /// <summary>HTTP/1.1 listener for /metrics (Prometheus) and /health/live, /health/ready; gRPC health is on both gRPC listeners.</summary>
    public string MetricsListen { get; init; } = "127.0.0.1:5601";

    /// <summary>Refuse a development trust anchor (docs/design/certificates.md).</summary>
    public bool Production { get; init; }

    public MessageLogOptions MessageLog { get; init; } = new();

    /// <summary>
    /// On shutdown (SIGTERM), how long each listener waits for the calls in flight to finish
    /// before it drops them; the message log is flushed after that.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>File sync's limits and retry policy.</summary>
    public FileSyncOptions Files { get; init; } = new();

    /// <summary>
    /// What the inter-node listener allows one connection: handshake, idle and header timeouts,
    /// the slowest request body, calls at once (docs/reliability.md, "Hostile peers").
    /// </summary>
    public ConnectionLimits PeerLimits { get; init; } = new();
}

/// <summary>
/// A running node: two Kestrel hosts for gRPC, so the agency-facing API can never be reached on the
/// inter-node port (a peer with a valid certificate must not act as this node's client), the
/// configuration and OCSP upkeep loops, and the message log.
/// </summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly WebApplication[] _hosts;
    private readonly IAsyncDisposable[] _owned;

    private readonly ILoggerFactory _loggerFactory;

    private readonly X509Certificate2? _internalTls;
    private readonly string? _localAddress;

    private NodeServer(
        NodeContext context, FileSync files, WebApplication[] hosts, string peerAddress, string? localAddress, string? localTlsAddress, string metricsAddress,
        IAsyncDisposable[] owned, X509Certificate2? internalTls, ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        Context = context;
        Files = files;
        _hosts = hosts;
        PeerAddress = peerAddress;
        _localAddress = localAddress;
        LocalTlsAddress = localTlsAddress;
        MetricsAddress = metricsAddress;
        _owned = owned;
        _internalTls = internalTls;
    }

    public NodeContext Context { get; }

    /// <summary>File sync: its store, database and delivery worker.</summary>
    public FileSync Files { get; }

    public string PeerAddress { get; }

    /// <summary>http://host:port of the local plaintext (development) gRPC listener.</summary>
    /// <exception cref="InvalidOperationException">That listener is off.</exception>
    public string LocalAddress => _localAddress ?? throw new InvalidOperationException("The plaintext local listener is off.");

    /// <summary>https://host:port of the local TLS listener, or null when it is off.</summary>
    public string? LocalTlsAddress { get; }

    /// <summary>The certificate the local TLS listener presents (systems pin it), or null.</summary>
    public X509Certificate2? LocalTlsCertificate => _internalTls;

    public string MetricsAddress { get; }

    public static async Task<NodeServer> StartAsync(NodeServerOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = timeProvider ?? TimeProvider.System;
        var paths = new NodePaths(options.DataDirectory);
        var localEndpoint = options.LocalListen is { } plain ? ParseEndpoint(plain) : null;
        var localTlsEndpoint = options.LocalTlsListen is { } secure ? ParseEndpoint(secure) : null;
        if (localEndpoint is null && localTlsEndpoint is null)
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, "The node needs a local listener for its systems: plaintext (development) or TLS.");
        }

        if (localEndpoint is not null && !IPAddress.IsLoopback(localEndpoint.Address))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, "The plaintext local listener must be on a loopback address.");
        }

        if (options.Production && localEndpoint is not null)
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid,
                "A production node serves its systems over TLS only: turn the plaintext local listener off and set the TLS one.");
        }

        var anchor = ConfigurationAnchor.Read(paths.Anchor);
        if (options.Production && anchor.SigningCertificates.Concat(anchor.RegistryTlsTrustRoots).Any(DevelopmentPki.IsDevelopmentCertificate))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid,
                "This node is started for production but its anchor holds development certificates (certs-dev).");
        }

        // Owned by the node: the configuration, OCSP and log loops log for as long as it runs.
        var loggerFactory = LoggerFactory.Create(builder => logging?.Invoke(builder));
        var settings = NodeSettingsSource.Open(paths.Settings, time, loggerFactory.CreateLogger<NodeSettingsSource>());
        var nodeId = NodeId.Parse(settings.Current.Node);
        var keys = NodeKeys.Load(paths);
        var internalTls = localTlsEndpoint is null ? null : InternalTlsCertificate.LoadOrCreate(paths, nodeId, time);
        var configuration = new GlobalConfigurationProvider(anchor, paths, time, loggerFactory.CreateLogger<GlobalConfigurationProvider>());
        if (configuration.Latest is null)
        {
            // First start: wait for one configuration so the node does not begin by refusing everything.
            try
            {
                await configuration.RefreshAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // The poll loop keeps trying; exchanges answer OutdatedGlobalConf meanwhile.
            }
        }

        var ownStatus = new OwnCertificateStatus(keys, configuration, paths, time, loggerFactory.CreateLogger<OwnCertificateStatus>());
        try
        {
            await ownStatus.RefreshAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // Retried by its loop; calls answer OcspUnavailable meanwhile.
        }

        var log = SqliteMessageLog.Open(paths.MessageLog, options.MessageLog, time, loggerFactory.CreateLogger<SqliteMessageLog>());
        var stamper = new TreeHeadStamper(nodeId, keys, anchor, configuration, log, time, loggerFactory.CreateLogger<TreeHeadStamper>());
        var ready = new ConfigurationInDate(configuration, time);

        // Built first: its meter factory makes this node's instruments and the gRPC hosts share it,
        // so /metrics reports their connections and requests too, and no other node's in the process.
        var metrics = BuildHost(logging, time, options.ShutdownTimeout, ready, grpcServices: null, kestrel => kestrel.Listen(ParseEndpoint(options.MetricsListen), listen => listen.Protocols = HttpProtocols.Http1),
            services => services.AddSingleton(log).AddNodeMetrics());
        var meters = metrics.Services.GetRequiredService<IMeterFactory>();
        var context = new NodeContext(
            nodeId, settings, keys, configuration, ownStatus, new EnvelopeVerification(time),
            new PeerChannels(keys, time), new BackendInvoker(), log, stamper, metrics.Services.GetRequiredService<NodeMetrics>(), time);

        var files = FileSync.Open(context, paths, options.Files, loggerFactory);
        await files.RecoverLogAsync().ConfigureAwait(false);
        var peerTrust = new PeerTrustSource(configuration, time);
        var peer = BuildHost(logging, time, options.ShutdownTimeout, ready, grpcServices: services =>
        {
            services.AddSingleton(meters);
            services.AddSingleton(context);
            services.AddSingleton<ProviderExchange>();
            services.AddSingleton<NodeAuditService>();
            services.AddSingleton(files.Receiver);
        }, kestrel =>
        {
            options.PeerLimits.ApplyTo(kestrel);
            kestrel.Listen(ParseEndpoint(options.PeerListen), listen => listen.UseBusGrpc(new ServerTlsOptions
            {
                ServerCertificate = keys.Authentication,
                ClientTrustSource = peerTrust.Current,
                HandshakeTimeout = options.PeerLimits.HandshakeTimeout,
            }, options.PeerLimits));
        });
        // No reflection here: a peer node has nothing to discover, and a stranger is refused at TLS.
        peer.MapBusGrpc(reflection: false);
        peer.MapGrpcService<ProviderExchange>();
        peer.MapGrpcService<NodeAuditService>();
        peer.MapGrpcService<FileReceiver>();

        var local = BuildHost(logging, time, options.ShutdownTimeout, ready, grpcServices: services =>
        {
            services.AddSingleton(meters);
            services.AddSingleton(context);
            services.AddSingleton(files);
            services.AddSingleton<ClientExchange>();
            services.AddSingleton<LocalGateway>();
            services.AddSingleton(files.Local);
        }, kestrel =>
        {
            if (localEndpoint is not null)
            {
                kestrel.Listen(localEndpoint, listen => listen.UseBusGrpc(null));
            }

            if (localTlsEndpoint is not null)
            {
                kestrel.Listen(localTlsEndpoint, listen => listen.UseBusGrpc(new ServerTlsOptions
                {
                    ServerCertificate = internalTls!,
                    ClientCertificateCheck = certificate => IsRegisteredSystem(settings.Current, certificate, time),
                }));
            }
        });
        metrics.MapNodeMetrics();
        metrics.MapGet("/health/live", () => Results.Text("live"));
        metrics.MapGet("/health/ready", () => ready.IsReady
            ? Results.Text("ready")
            : Results.Text(ConfigurationInDate.NotReady, statusCode: StatusCodes.Status503ServiceUnavailable));
        local.MapBusGrpc(reflection: true);
        local.MapGrpcService<LocalGateway>();
        local.MapGrpcService<LocalFiles>();

        await peer.StartAsync().ConfigureAwait(false);
        await local.StartAsync().ConfigureAwait(false);
        await metrics.StartAsync().ConfigureAwait(false);
        configuration.Start();
        ownStatus.Start();
        stamper.Start();
        files.Worker.Start();
        files.Receiver.Start();

        settings.Start(options.SettingsPollInterval);

        var peerAddress = Bound(peer, "https");
        return new NodeServer(
            context, files, [local, peer, metrics], $"{peerAddress.Host}:{peerAddress.Port}",
            localEndpoint is null ? null : Bound(local, "http").ToString().TrimEnd('/'),
            localTlsEndpoint is null ? null : Bound(local, "https").ToString().TrimEnd('/'),
            Bound(metrics, "http").ToString().TrimEnd('/'),
            // The delivery worker stops before the log it writes to.
            [files, settings, stamper, configuration, ownStatus, log], internalTls, loggerFactory);
    }

    public async ValueTask DisposeAsync()
    {
        // Stop taking calls (the local host first), let in-flight ones finish, then flush the log and
        // stop the loops. Following Receive streams never finish on their own: they end first.
        Files.BeginClosing();
        foreach (var host in _hosts)
        {
            await host.StopAsync().ConfigureAwait(false);
            await host.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var owned in _owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }

        Context.Peers.Dispose();
        Context.Backends.Dispose();
        Context.Keys.Dispose();
        _internalTls?.Dispose();
        _loggerFactory.Dispose();
    }

    private static WebApplication BuildHost(
        Action<ILoggingBuilder>? logging, TimeProvider time, TimeSpan shutdownTimeout, ConfigurationInDate ready,
        Action<IServiceCollection>? grpcServices, Action<KestrelServerOptions> kestrel, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel);
        builder.Services.AddSingleton(time);

        // The metrics host (HTTP/1.1) serves no gRPC: it gets none of the gRPC services.
        if (grpcServices is not null)
        {
            builder.Services.AddBusGrpc(o =>
            {
                o.MaxReceiveMessageSize = NodeLimits.MaxMessageBytes;
                o.MaxSendMessageSize = NodeLimits.MaxMessageBytes;
            }).AddCheck(ConfigurationInDate.Name, ready);
            grpcServices(builder.Services);
        }

        services?.Invoke(builder.Services);
        return builder.Build();
    }

    private static Uri Bound(WebApplication app, string scheme) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).Single(a => a.Scheme == scheme);

    /// <summary>
    /// The local TLS handshake admits a certificate node.json registers for one of its clients,
    /// within its validity; which subsystem it may act as is checked per call.
    /// </summary>
    private static bool IsRegisteredSystem(NodeSettings settings, X509Certificate2 certificate, TimeProvider time)
    {
        var now = time.GetUtcNow();
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            return false;
        }

        var fingerprint = InternalTlsCertificate.Fingerprint(certificate);
        return settings.Clients.Any(c => string.Equals(c.TlsCertificateSha256, fingerprint, StringComparison.OrdinalIgnoreCase));
    }

    private static IPEndPoint ParseEndpoint(string listen) =>
        IPEndPoint.TryParse(listen, out var endpoint)
            ? endpoint
            : throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"'{listen}' is not an IP address and port.");

    /// <summary>Trust for peers' TLS certificates: the CAs of the configuration in force, rebuilt when it changes.</summary>
    private sealed class PeerTrustSource(GlobalConfigurationProvider configuration, TimeProvider time)
    {
        private (ulong Version, CertificateTrust Trust)? _cached;

        public CertificateTrust? Current()
        {
            var view = configuration.Latest;
            if (view is null || view.TrustedCertificateAuthorities.Count == 0)
            {
                return null;
            }

            var cached = _cached;
            if (cached is { } c && c.Version == view.Version)
            {
                return c.Trust;
            }

            var trust = new CertificateTrust(view.TrustedCertificateAuthorities, time);
            _cached = (view.Version, trust);
            return trust;
        }
    }
}
