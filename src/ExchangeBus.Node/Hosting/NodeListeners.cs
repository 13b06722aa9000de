// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// The node's Kestrel listeners, each named for <see cref="BusListeners"/> so that it serves only
/// its own endpoints: the peers' (mutual TLS with the authentication certificate), the local
/// ones for the agency's systems (plaintext h2c on loopback and/or TLS with HTTP/1.1 and HTTP/2,
/// where <c>LocalTlsGate</c> admits the client certificates node.json pins), and metrics (HTTP/1.1). Where each was bound is read here after start.
/// </summary>
internal sealed class NodeListeners(
    IOptions<NodeServerOptions> options, NodePaths paths, NodeId node, NodeKeys keys, PeerTrustSource peerTrust, TimeProvider time)
    : IConfigureOptions<KestrelServerOptions>, IDisposable
{
    /// <summary>Other nodes: exchange, file transfer, audit.</summary>
    public const string Peer = "peer";

    /// <summary>The agency's own systems: gateway, files, reflection.</summary>
    public const string Local = "local";

    /// <summary>Prometheus and HTTP health probes.</summary>
    public const string Metrics = "metrics";

    /// <summary>The operators' and auditors' web console (HTTPS, its own self-signed certificate).</summary>
    public const string Console = "console";

    private readonly Lazy<X509Certificate2?> _localTlsCertificate = new(() => options.Value.LocalTlsListen is null ? null : InternalTlsCertificate.LoadOrCreate(paths, node, time));
    private ListenOptions? _peer;
    private ListenOptions? _local;
    private ListenOptions? _localTlsListen;
    private ListenOptions? _metrics;
    private ListenOptions? _console;

    /// <summary>The certificate the local TLS listener presents (systems pin it), or null when that listener is off.</summary>
    public X509Certificate2? LocalTlsCertificate => _localTlsCertificate.Value;

    /// <summary>Where the peer listener is bound, host:port.</summary>
    public IPEndPoint PeerEndpoint => Bound(_peer);

    public IPEndPoint? LocalEndpoint => _local is null ? null : Bound(_local);

    public IPEndPoint? LocalTlsEndpoint => _localTlsListen is null ? null : Bound(_localTlsListen);

    public IPEndPoint MetricsEndpoint => Bound(_metrics);

    public IPEndPoint? ConsoleEndpoint => _console is null ? null : Bound(_console);

    public void Configure(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        var o = options.Value;

        // Kestrel's limits are server-wide, so the peer listener's also hold on the local and
        // metrics listeners: tighter than Kestrel's defaults, which those callers need no looser.
        o.PeerLimits.ApplyTo(kestrel);
        kestrel.Listen(Endpoint(o.PeerListen), listen => _peer = listen.Named(Peer).UseBusGrpc(new ServerTlsOptions
        {
            ServerCertificate = keys.Authentication,
            ClientTrustSource = peerTrust.Current,
            HandshakeTimeout = o.PeerLimits.HandshakeTimeout,
        }, o.PeerLimits));
        if (o.LocalListen is { } plaintext)
        {
            kestrel.Listen(Endpoint(plaintext), listen => _local = listen.Named(Local).UseBusGrpc(null));
        }

        if (o.LocalTlsListen is { } secure)
        {
            kestrel.Listen(Endpoint(secure), listen =>
            {
                _localTlsListen = listen.Named(Local).UseBusGrpc(new ServerTlsOptions
                {
                    ServerCertificate = LocalTlsCertificate!,

                    // Any certificate passes the handshake; LocalTlsGate answers an unregistered one
                    // with a coded error (a refusal inside a TLS 1.3 handshake reaches the caller as a
                    // torn connection, reported differently from one run to the next).
                    ClientCertificateCheck = _ => true,
                    RequireClientCertificate = false,
                });

                // HTTP/1.1 beside HTTP/2, chosen by ALPN: X-Road REST clients (curl, most HTTP
                // libraries) speak HTTP/1.1 (PR-REST 3.1), gRPC clients still ask for h2. Kestrel
                // reads it when it builds the TLS middleware at start, so setting it after UseBusGrpc holds.
                _localTlsListen.Protocols = HttpProtocols.Http1AndHttp2;
            });
        }

        kestrel.Listen(Endpoint(o.MetricsListen), listen =>
        {
            _metrics = listen.Named(Metrics);
            listen.Protocols = HttpProtocols.Http1;
        });

        if (o.Console.Listen is { } console)
        {
            // People's browsers meet this certificate, not peers: self-signed like the local TLS one.
            SelfSignedTlsCertificate.EnsureCreated(paths.ConsoleTlsCertificate, paths.ConsoleTlsKey, "ExchangeBus node console", node.ToString(), time);
            var certificate = SelfSignedTlsCertificate.Load(paths.ConsoleTlsCertificate, paths.ConsoleTlsKey)
                ?? throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{paths.ConsoleTlsCertificate} does not match {paths.ConsoleTlsKey}.");
            kestrel.Listen(Endpoint(console), listen =>
            {
                _console = listen.Named(Console);
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,

                    // As the registry's console: asked for, never required, so the password login
                    // works without one. Any certificate passes the handshake; the login page checks
                    // it (NodeConsoleCertificates, then the account bound to it) and refuses with a
                    // code, which a failed handshake could not say.
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                });
            });
        }
    }

    public void Dispose()
    {
        if (_localTlsCertificate.IsValueCreated)
        {
            _localTlsCertificate.Value?.Dispose();
        }
    }

    // Validated before Kestrel is configured (NodeServerOptionsValidator).
    private static IPEndPoint Endpoint(string listen) => ListenSetting.Parse(listen)!;

    // Kestrel puts the bound endpoint (the port it picked for port 0) back on the listen options.
    private static IPEndPoint Bound(ListenOptions? listen) =>
        listen?.IPEndPoint ?? throw new InvalidOperationException("The node's listeners are not bound yet.");
}
