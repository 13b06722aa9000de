// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Testing.V1;
using Grpc.AspNetCore.HealthChecks;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an ephemeral port, set up as every bus server is
/// (AddBusGrpc, UseBusGrpc, MapBusGrpc), serving the interop service and one health check the
/// test can flip.
/// </summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    /// <summary>The health check behind the interop service's grpc.health.v1 status.</summary>
    public const string HealthCheckName = "interop";

    /// <summary>The grpc.health.v1 service name mapped to <see cref="HealthCheckName"/> alone.</summary>
    public static readonly string HealthServiceName = Interop.Descriptor.FullName;

    private readonly WebApplication _app;

    private GrpcTestServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public InteropService Service => _app.Services.GetRequiredService<InteropService>();

    public HealthSwitch Health => _app.Services.GetRequiredService<HealthSwitch>();

    public Uri Address { get; }

    public static async Task<GrpcTestServer> StartAsync(
        ServerTlsOptions? tls,
        Action<BusGrpcServerOptions>? configure = null,
        IPAddress? listenAddress = null,
        string host = "localhost",
        ConnectionLimits? limits = null,
        bool reflection = true,
        int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            limits?.ApplyTo(kestrel);
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, port, listen => listen.UseBusGrpc(tls, limits));
        });
        builder.Services.AddSingleton<InteropService>();
        builder.Services.AddSingleton<HealthSwitch>();
        builder.Services.AddBusGrpc(configure)
            .AddCheck<HealthSwitch>(HealthCheckName, tags: [HealthCheckName]);
        builder.Services.Configure<GrpcHealthChecksOptions>(health =>
            health.Services.Map(HealthServiceName, check => check.Tags.Contains(HealthCheckName)));

        // Watch reports what the health check publisher last saw; publish at once and then every
        // second, so a flip reaches a watcher without the default 5 s delay and 30 s period.
        builder.Services.Configure<HealthCheckPublisherOptions>(publisher =>
        {
            publisher.Delay = TimeSpan.Zero;
            publisher.Period = TimeSpan.FromSeconds(1);
        });
        var app = builder.Build();
        app.MapBusGrpc(reflection);
        app.MapGrpcService<InteropService>();
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var address = new Uri($"{(tls is null ? "http" : "https")}://{host}:{bound.Port}");
        return new GrpcTestServer(app, address);
    }

    /// <summary>The usual server: mutual TLS against the test root.</summary>
    public static Task<GrpcTestServer> StartMutualTlsAsync(Action<BusGrpcServerOptions>? configure = null, ConnectionLimits? limits = null, bool reflection = true, int port = 0)
    {
        var certs = TestCertificates.Instance;
        return StartAsync(
            new ServerTlsOptions
            {
                ServerCertificate = certs.Server,
                ClientTrust = new CertificateTrust([certs.Root], TimeProvider.System),
            },
            configure,
            limits: limits,
            reflection: reflection,
            port: port);
    }

    public GrpcChannel CreateChannel(X509Certificate2? clientCertificate = null, int? maxReceive = null, int? maxSend = null)
    {
        var certs = TestCertificates.Instance;
        return BusChannel.Create(Address, new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([certs.Root], TimeProvider.System),
            ClientCertificate = clientCertificate ?? certs.Client,
            MaxReceiveMessageSize = maxReceive ?? BusChannelOptions.DefaultMaxMessageSize,
            MaxSendMessageSize = maxSend ?? BusChannelOptions.DefaultMaxMessageSize,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
