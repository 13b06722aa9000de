// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Rest;
using Grpc.Core;

namespace ExchangeBus.Node.Gateway;

/// <summary>
/// The door of the local TLS listener: every request on it must come with a certificate
/// node.json registers for one of its clients, within the certificate's validity. Anything
/// else is answered UNAUTHENTICATED with <see cref="NodeErrors.ClientNotAuthenticated"/> and a
/// correlation id before any service runs (health and reflection included); under <c>/r1</c> the
/// same refusal in X-Road's REST form (400, <c>X-Road-Error</c>, the error JSON). Which subsystem a
/// registered system may act as is checked per call (<c>ClientExchange.Authenticate</c>).
/// </summary>
/// <remarks>
/// Until 2026-12-07 the TLS handshake itself refused such a certificate. Under TLS 1.3 the
/// client finishes its side of the handshake before the server has checked the client's
/// certificate, so the refusal reached the calling system as a torn connection, which gRPC
/// clients report as UNAVAILABLE or INTERNAL depending on timing, with no error code. The
/// handshake now takes any certificate (it is only a question; this gate gives the answer), so
/// an agency's developer always reads one status and one code, and the answer follows node.json
/// on connections opened before a change: a certificate struck off is refused at its next call.
/// </remarks>
internal sealed partial class LocalTlsGate(RequestDelegate next, NodeSettingsSource settings, TimeProvider time, ILogger<LocalTlsGate> logger)
{
    // The fingerprint the gate computed, kept for the call's services (LocalGateway.Caller): one SHA-256 a call, not two.
    private static readonly object FingerprintKey = new();

    /// <summary>The SHA-256 (hex) of the caller's TLS client certificate, or null on a plaintext call or one without a certificate.</summary>
    public static string? ClientFingerprint(HttpContext httpContext)
    {
        if (!httpContext.Request.IsHttps || httpContext.Connection.ClientCertificate is not { } certificate)
        {
            return null;
        }

        return httpContext.Items.TryGetValue(FingerprintKey, out var kept) && kept is string fingerprint
            ? fingerprint
            : InternalTlsCertificate.Fingerprint(certificate);
    }

    public Task InvokeAsync(HttpContext httpContext)
    {
        if (!httpContext.Request.IsHttps || BusListeners.ListenerOf(httpContext) != NodeListeners.Local)
        {
            return next(httpContext);
        }

        var certificate = httpContext.Connection.ClientCertificate;
        var fingerprint = certificate is null ? null : InternalTlsCertificate.Fingerprint(certificate);
        if (fingerprint is not null)
        {
            httpContext.Items[FingerprintKey] = fingerprint;
        }

        var refusal = certificate is null
            ? "The call came without a client certificate; the node's local TLS port admits the certificates node.json registers for its clients."
            : !IsRegistered(certificate, fingerprint!)
                ? "The client certificate is not registered on this node (or is outside its validity); register it with `xbus node client add --tls-cert`."
                : null;
        if (refusal is null)
        {
            return next(httpContext);
        }

        var correlationId = httpContext.TraceIdentifier;
        Refused(logger, fingerprint ?? "none", correlationId);

        // A REST caller (curl, an X-Road REST client) reads X-Road's error JSON, not gRPC trailers.
        if (httpContext.Request.Path.StartsWithSegments(RestGateway.PathPrefix, StringComparison.Ordinal))
        {
            return RestErrorWriter.WriteAsync(httpContext.Response, NodeErrors.ClientNotAuthenticated, refusal, correlationId, httpContext.RequestAborted);
        }

        return RichStatus.AnswerAsync(httpContext, RichStatus.Error(StatusCode.Unauthenticated, NodeErrors.ClientNotAuthenticated, refusal, correlationId));
    }

    private bool IsRegistered(X509Certificate2 certificate, string fingerprint)
    {
        var now = time.GetUtcNow();
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            return false;
        }

        return settings.Current.Clients.Any(c => string.Equals(c.TlsCertificateSha256, fingerprint, StringComparison.OrdinalIgnoreCase));
    }

    // The fingerprint names a certificate, not a person: it is what the operator registers.
    [LoggerMessage(4302, LogLevel.Warning, "Local TLS call refused: client certificate {Fingerprint} is not registered (correlation id {CorrelationId})")]
    private static partial void Refused(ILogger logger, string fingerprint, string correlationId);
}
