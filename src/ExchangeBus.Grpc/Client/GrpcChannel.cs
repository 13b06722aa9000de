// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Internal;
using ExchangeBus.Grpc.Tls;

namespace ExchangeBus.Grpc;

/// <summary>
/// A client connection to one gRPC server. It holds one HTTP/2 connection pool: create a channel
/// per peer and keep it, since a TLS handshake costs far more than a call.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly HttpMessageInvoker _invoker;

    private GrpcChannel(Uri address, GrpcChannelOptions options, HttpMessageInvoker invoker)
    {
        Address = address;
        Options = options;
        _invoker = invoker;
    }

    public Uri Address { get; }

    public GrpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker => _invoker;

    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions options)
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

        return new GrpcChannel(address, options, new HttpMessageInvoker(handler, disposeHandler: true));
    }

    public AsyncUnaryCall<TResponse> CallUnary<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
    {
        var call = Start(method, MethodType.Unary, options);
        call.StartUnaryRequest(request);
        return new AsyncUnaryCall<TResponse>(call.ReadSingleResponseAsync(), call);
    }

    public Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        => CallUnary(method, request, options).ResponseAsync;

    public AsyncServerStreamingCall<TResponse> CallServerStreaming<TRequest, TResponse>(
        Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
    {
        var call = Start(method, MethodType.ServerStreaming, options);
        call.StartUnaryRequest(request);
        return new AsyncServerStreamingCall<TResponse>(call);
    }

    public AsyncClientStreamingCall<TRequest, TResponse> CallClientStreaming<TRequest, TResponse>(
        Method<TRequest, TResponse> method, CallOptions options = default)
    {
        var call = Start(method, MethodType.ClientStreaming, options);
        call.StartStreamingRequest();
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, call.ReadSingleResponseAsync());
    }

    public AsyncDuplexStreamingCall<TRequest, TResponse> CallDuplexStreaming<TRequest, TResponse>(
        Method<TRequest, TResponse> method, CallOptions options = default)
    {
        var call = Start(method, MethodType.DuplexStreaming, options);
        call.StartStreamingRequest();
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call);
    }

    public void Dispose() => _invoker.Dispose();

    private ClientCall<TRequest, TResponse> Start<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, CallOptions options)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.FullName} is {method.Type}, not {expected}.", nameof(method));
        }

        return new ClientCall<TRequest, TResponse>(this, method, options);
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
}
