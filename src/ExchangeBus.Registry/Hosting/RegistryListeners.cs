// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Registry.Storage;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// The registry's two Kestrel listeners, named for <see cref="BusListeners"/>: gRPC over TLS
/// (configuration, registration, management; a client certificate is optional and checked per
/// management call) and plain HTTP/1.1 (time-stamping, OCSP, HTTP health), which serves no gRPC.
/// </summary>
internal sealed class RegistryListeners(IOptions<RegistryServerOptions> options, RegistryKeys keys, TimeProvider time) : IConfigureOptions<KestrelServerOptions>
{
    public const string Grpc = "grpc";
    public const string Http = "http";

    private ListenOptions? _grpc;
    private ListenOptions? _http;

    public IPEndPoint GrpcEndpoint => Bound(_grpc);

    public IPEndPoint HttpEndpoint => Bound(_http);

    public void Configure(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        var o = options.Value;
        o.Limits.ApplyTo(kestrel);
        kestrel.Listen(ListenSetting.Parse(o.GrpcListen)!, listen => _grpc = listen.Named(Grpc).UseBusGrpc(new ServerTlsOptions
        {
            ServerCertificate = keys.Tls,
            ClientTrust = new CertificateTrust([keys.RootCertificate], time),
            RequireClientCertificate = false,
            HandshakeTimeout = o.Limits.HandshakeTimeout,
        }, o.Limits));

        // openssl ts/ocsp and curl speak HTTP/1.1 over plain TCP; HTTP/2 without TLS would need prior knowledge.
        kestrel.Listen(ListenSetting.Parse(o.HttpListen)!, listen =>
        {
            _http = listen.Named(Http);
            listen.Protocols = HttpProtocols.Http1;
        });
    }

    // Kestrel puts the bound endpoint (the port it picked for port 0) back on the listen options.
    private static IPEndPoint Bound(ListenOptions? listen) =>
        listen?.IPEndPoint ?? throw new InvalidOperationException("The registry's listeners are not bound yet.");
}
