// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.WebConsole;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// The registry's two Kestrel listeners, named for <see cref="BusListeners"/>: gRPC over TLS
/// (configuration, registration, management; a client certificate is optional and checked per
/// management call) and plain HTTP/1.1 (time-stamping, OCSP, HTTP health), which serves no gRPC.
/// </summary>
internal sealed class RegistryListeners(IOptions<RegistryServerOptions> options, RegistryKeys keys, RegistryStore store, TimeProvider time) : IConfigureOptions<KestrelServerOptions>
{
    public const string Grpc = "grpc";
    public const string Http = "http";

    /// <summary>The web console's HTTPS listener, bound only when <c>console.listen</c> is set.</summary>
    public const string Console = "console";

    private ListenOptions? _grpc;
    private ListenOptions? _http;
    private ListenOptions? _console;

    public IPEndPoint GrpcEndpoint => Bound(_grpc);

    public IPEndPoint HttpEndpoint => Bound(_http);

    /// <summary>The console's bound endpoint, or null when the console is off.</summary>
    public IPEndPoint? ConsoleEndpoint => _console is null ? null : Bound(_console);

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

        if (o.Console.Listen is { } console)
        {
            var certificate = RegistryConsoleCertificate.LoadOrCreate(o.DataDirectory, store.Instance, time);
            kestrel.Listen(ListenSetting.Parse(console)!, listen =>
            {
                _console = listen.Named(Console);
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,

                    // Asked for, never required: the password login works without one. Any
                    // certificate passes the handshake; the login page checks it (chain,
                    // validity, revocation, the account bound to it) and refuses with a code,
                    // which a failed handshake could not say.
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                });
            });
        }
    }

    // Kestrel puts the bound endpoint (the port it picked for port 0) back on the listen options.
    private static IPEndPoint Bound(ListenOptions? listen) =>
        listen?.IPEndPoint ?? throw new InvalidOperationException("The registry's listeners are not bound yet.");
}
