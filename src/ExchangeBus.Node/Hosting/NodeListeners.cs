// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// The node's Kestrel listeners, each named for <see cref="BusListeners"/> so that it serves only
/// its own endpoints: the peers' (mutual TLS with the authentication certificate), the local
/// ones for the agency's systems (plaintext on loopback and/or TLS with pinned client
/// certificates), and metrics (HTTP/1.1). Where each was bound is read here after start.
/// </summary>
internal sealed class NodeListeners(
    IOptions<NodeServerOptions> options, NodePaths paths, NodeId node, NodeKeys keys, NodeSettingsSource settings, PeerTrustSource peerTrust, TimeProvider time)
    : IConfigureOptions<KestrelServerOptions>, IDisposable
{
    /// <summary>Other nodes: exchange, file transfer, audit.</summary>
    public const string Peer = "peer";

    /// <summary>The agency's own systems: gateway, files, reflection.</summary>
    public const string Local = "local";

    /// <summary>Prometheus and HTTP health probes.</summary>
    public const string Metrics = "metrics";

    private readonly Lazy<X509Certificate2?> _localTlsCertificate = new(() => options.Value.LocalTlsListen is null ? null : InternalTlsCertificate.LoadOrCreate(paths, node, time));
    private ListenOptions? _peer;
    private ListenOptions? _local;
    private ListenOptions? _localTlsListen;
    private ListenOptions? _metrics;

    /// <summary>The certificate the local TLS listener presents (systems pin it), or null when that listener is off.</summary>
    public X509Certificate2? LocalTlsCertificate => _localTlsCertificate.Value;

    /// <summary>Where the peer listener is bound, host:port.</summary>
    public IPEndPoint PeerEndpoint => Bound(_peer);

    public IPEndPoint? LocalEndpoint => _local is null ? null : Bound(_local);

    public IPEndPoint? LocalTlsEndpoint => _localTlsListen is null ? null : Bound(_localTlsListen);

    public IPEndPoint MetricsEndpoint => Bound(_metrics);

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
            kestrel.Listen(Endpoint(secure), listen => _localTlsListen = listen.Named(Local).UseBusGrpc(new ServerTlsOptions
            {
                ServerCertificate = LocalTlsCertificate!,
                ClientCertificateCheck = certificate => IsRegisteredSystem(settings.Current, certificate, time),
            }));
        }

        kestrel.Listen(Endpoint(o.MetricsListen), listen =>
        {
            _metrics = listen.Named(Metrics);
            listen.Protocols = HttpProtocols.Http1;
        });
    }

    public void Dispose()
    {
        if (_localTlsCertificate.IsValueCreated)
        {
            _localTlsCertificate.Value?.Dispose();
        }
    }

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

    // Validated before Kestrel is configured (NodeServerOptionsValidator).
    private static IPEndPoint Endpoint(string listen) => ListenSetting.Parse(listen)!;

    // Kestrel puts the bound endpoint (the port it picked for port 0) back on the listen options.
    private static IPEndPoint Bound(ListenOptions? listen) =>
        listen?.IPEndPoint ?? throw new InvalidOperationException("The node's listeners are not bound yet.");
}
