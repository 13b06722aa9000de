// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Tls;
using Grpc.Net.Client;

namespace ExchangeBus.Grpc;

/// <summary>
/// Grpc.Net.Client channels with the bus's TLS: the server's certificate must chain to the bus's
/// roots (never the operating system's store) and pass the caller's pin, and the client presents
/// its own certificate for mutual TLS. A channel holds an HTTP/2 connection pool: create one per
/// peer and keep it, since a TLS handshake costs far more than a call.
/// </summary>
public static class BusChannel
{
    public static GrpcChannel Create(Uri address, BusChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(options);
        var secure = address.Scheme switch
        {
            "https" => true,
            "http" => false,
            _ => throw new ArgumentException("The address must be http:// or https://.", nameof(address)),
        };
        if (options.MaxReceiveMessageSize <= 0 || options.MaxSendMessageSize <= 0)
        {
            throw new ArgumentException("Message size limits must be positive.", nameof(options));
        }

        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            // No W3C trace context to a peer: an agency's trace ids are its own, and the bus
            // correlates calls by its correlation id (this also spares a header per call).
            ActivityHeadersPropagator = null,

            // Our own connect (what SocketsHttpHandler does by default) also tells grpc-dotnet to
            // leave connections to the handler. Given a bare SocketsHttpHandler, the runtime
            // manages them itself: after a failed connect it fails every call with "Error
            // connecting to subchannel" until an exponential backoff (up to 2 minutes) runs out,
            // so a peer node back from a restart stayed unreachable that long. Now each call finds
            // a connection or opens one (ReconnectTests).
            ConnectCallback = ConnectAsync,
        };
        if (secure)
        {
            var trust = options.ServerTrust
                ?? throw new ArgumentException("An https channel needs ServerTrust: the bus's roots.", nameof(options));
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    ValidateServer(trust, options.ServerCertificateCheck, certificate, chain, errors),
            };
            if (options.ClientCertificate is { } clientCertificate)
            {
                handler.SslOptions.ClientCertificates = [clientCertificate];
                handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
            }
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new UnreachableAsUnavailable(handler),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            MaxSendMessageSize = options.MaxSendMessageSize,
            LoggerFactory = options.LoggerFactory,
            // Retries are the caller's decision (file delivery has its own backoff; an exchange is
            // signed once and must not be sent twice behind the caller's back).
            MaxRetryAttempts = 0,
            // No compression: the runtime inflates a compressed reply whole before any limit
            // applies (MaxReceiveMessageSize bounds only the compressed bytes), so a peer could
            // make a small reply cost gigabytes. An empty list offers identity only and answers a
            // compressed reply UNIMPLEMENTED.
            CompressionProviders = [],
        });
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool ValidateServer(
        CertificateTrust trust,
        Func<X509Certificate2, bool>? check,
        X509Certificate? certificate,
        X509Chain? chain,
        SslPolicyErrors errors)
    {
        // A name mismatch is still fatal; the chain verdict is ours, built on the bus's roots.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        var server = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var intermediates = new X509Certificate2Collection();
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                intermediates.Add(element.Certificate);
            }
        }

        return trust.Validate(server, CertificateTrust.ServerAuthentication, intermediates).IsTrusted
            && (check?.Invoke(server) ?? true);
    }

    /// <summary>
    /// A server the channel never reached is UNAVAILABLE, so a node tries the provider's next node.
    /// Grpc.Net.Client says UNAVAILABLE only when the failure's chain holds an IOException (as for
    /// a refused connection); two other ways of not reaching a server lack one:
    /// - one that takes the connection but never finishes the TLS handshake (a host gone dark,
    ///   something else on the port) ends at the connect timeout, which SocketsHttpHandler reports
    ///   as a cancellation: CANCELLED, as if the caller had given up;
    /// - one whose certificate we refuse (not chained to the bus's roots, wrong name, failing the
    ///   caller's pin): an AuthenticationException, INTERNAL. Nothing was sent to it.
    /// Both are said as a connection failure with an inner IOException.
    /// </summary>
    private sealed class UnreachableAsUnavailable(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && ex.InnerException is TimeoutException)
            {
                const string Message = "The server did not complete the connection within the connect timeout.";
                throw new HttpRequestException(HttpRequestError.ConnectionError, Message, new IOException(Message, ex));
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.SecureConnectionError && ex.InnerException is AuthenticationException)
            {
                throw new HttpRequestException(HttpRequestError.SecureConnectionError, ex.Message, new IOException(ex.InnerException.Message, ex));
            }
        }
    }
}
