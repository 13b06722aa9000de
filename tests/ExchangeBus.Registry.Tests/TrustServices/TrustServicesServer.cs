// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Registry.TrustServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>A real Kestrel server on 127.0.0.1 with an ephemeral port, serving only the trust services.</summary>
internal sealed class TrustServicesServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private TrustServicesServer(WebApplication app, int port)
    {
        this.app = app;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public static async Task<TrustServicesServer> StartAsync(TimeStampAuthority tsa, OcspResponder ocsp)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapTrustServices(tsa, ocsp);
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new TrustServicesServer(app, bound.Port);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
