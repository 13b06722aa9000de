// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Grpc.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>A real Kestrel server on 127.0.0.1 with an ephemeral port, serving the interop service.</summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcTestServer(WebApplication app, InteropService service, Uri address)
    {
        _app = app;
        Service = service;
        Address = address;
    }

    public InteropService Service { get; }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GrpcTestServer> StartAsync(
        ServerTlsOptions? tls, Action<GrpcServerOptions>? configure = null, IPAddress? listenAddress = null, string host = "localhost", ConnectionLimits? limits = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            limits?.ApplyTo(kestrel);
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, 0, listen => listen.UseBusGrpc(tls, limits));
        });
        builder.Services.AddBusGrpc(configure);
        var app = builder.Build();
        var service = new InteropService();
        app.MapBusGrpc(service.Build());
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var address = new Uri($"{(tls is null ? "http" : "https")}://{host}:{bound.Port}");
        return new GrpcTestServer(app, service, address);
    }

    /// <summary>The usual server: mutual TLS against the test root.</summary>
    public static Task<GrpcTestServer> StartMutualTlsAsync(Action<GrpcServerOptions>? configure = null, ConnectionLimits? limits = null)
    {
        var certs = TestCertificates.Instance;
        return StartAsync(
            new ServerTlsOptions
            {
                ServerCertificate = certs.Server,
                ClientTrust = new CertificateTrust([certs.Root], TimeProvider.System),
            },
            configure,
            limits: limits);
    }

    public GrpcChannel CreateChannel(System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate = null, int? maxReceive = null, int? maxSend = null)
    {
        var certs = TestCertificates.Instance;
        return GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            ServerTrust = new CertificateTrust([certs.Root], TimeProvider.System),
            ClientCertificate = clientCertificate ?? certs.Client,
            MaxReceiveMessageSize = maxReceive ?? GrpcProtocol.DefaultMaxMessageSize,
            MaxSendMessageSize = maxSend ?? GrpcProtocol.DefaultMaxMessageSize,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
