// SPDX-License-Identifier: Apache-2.0
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Internal;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ExchangeBus.Grpc.Tls;

/// <summary>How a listener authenticates its callers.</summary>
public sealed record ServerTlsOptions
{
    public required X509Certificate2 ServerCertificate { get; init; }

    /// <summary>Roots client certificates must chain to; null means no client certificate is asked for.</summary>
    public CertificateTrust? ClientTrust { get; init; }

    /// <summary>
    /// Roots read at each handshake, for trust that changes while the server runs (a node's
    /// comes from the current global configuration). Null from the source refuses the client.
    /// </summary>
    public Func<CertificateTrust?>? ClientTrustSource { get; init; }

    /// <summary>
    /// A further check on a chain-valid client certificate, e.g. "is this a node the global
    /// configuration lists". Runs inside the handshake, so a refused peer never reaches a handler.
    /// With no trust set, this check alone decides: certificates pinned by their hash (a node's
    /// local systems, which often present self-signed certificates).
    /// </summary>
    public Func<X509Certificate2, bool>? ClientCertificateCheck { get; init; }

    /// <summary>
    /// False lets callers without a certificate in (a certificate offered must still be valid);
    /// handlers then decide per method, as the registry does for its management API.
    /// </summary>
    public bool RequireClientCertificate { get; init; } = true;

    /// <summary>The TLS handshake must finish within this (<see cref="ConnectionLimits.HandshakeTimeout"/>).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

public static class GrpcTlsExtensions
{
    /// <summary>
    /// Makes the listener HTTP/2 only; with <paramref name="tls"/> null, plaintext (h2c, loopback
    /// development). With <paramref name="limits"/>, connections without calls are closed after
    /// its <see cref="ConnectionLimits.IdleTimeout"/> (the Kestrel-wide limits are applied by
    /// <see cref="ConnectionLimits.ApplyTo"/>).
    /// </summary>
    public static ListenOptions UseBusGrpc(this ListenOptions listenOptions, ServerTlsOptions? tls, ConnectionLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Protocols = HttpProtocols.Http2;
        if (tls is null)
        {
            return Guarded(listenOptions, limits);
        }

        var chainChecked = tls.ClientTrust is not null || tls.ClientTrustSource is not null;
        var asksForCertificate = chainChecked || tls.ClientCertificateCheck is not null;
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = tls.ServerCertificate,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = !asksForCertificate ? ClientCertificateMode.NoCertificate
                : tls.RequireClientCertificate ? ClientCertificateMode.RequireCertificate
                : ClientCertificateMode.AllowCertificate,
            CheckCertificateRevocation = false,
            HandshakeTimeout = tls.HandshakeTimeout,
        };
        if (!chainChecked && tls.ClientCertificateCheck is { } pinned)
        {
            // Pinned: the platform's chain verdict (built on the OS store) is irrelevant.
            https.ClientCertificateValidation = (certificate, _, _) => pinned(certificate);
        }
        else if (chainChecked)
        {
            // The platform's own verdict is built on the OS store; ours is built on the bus's roots.
            https.ClientCertificateValidation = (certificate, chain, _) =>
            {
                var intermediates = new X509Certificate2Collection();
                if (chain is not null)
                {
                    foreach (var element in chain.ChainElements)
                    {
                        intermediates.Add(element.Certificate);
                    }
                }

                var trust = tls.ClientTrustSource is { } source ? source() : tls.ClientTrust;
                return trust is not null
                    && trust.Validate(certificate, CertificateTrust.ClientAuthentication, intermediates).IsTrusted
                    && (tls.ClientCertificateCheck?.Invoke(certificate) ?? true);
            };
        }

        listenOptions.UseHttps(https);

        // After TLS, so the idle clock starts once the handshake is done: the handshake has its own
        // timeout, and counting it as idle made a slow handshake (a loaded machine, a short idle
        // timeout) end in a GOAWAY before the connection's first call could start.
        return Guarded(listenOptions, limits);
    }

    private static ListenOptions Guarded(ListenOptions listenOptions, ConnectionLimits? limits)
    {
        if (limits is not null)
        {
            listenOptions.Use(ConnectionActivity.Guard(limits.IdleTimeout));
        }

        return listenOptions;
    }
}
