// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// An agency's own gRPC server, one typed service on a loopback port of its own, plaintext
/// HTTP/2 as a provider node reaches its backends: <see cref="Address"/> is what a backend in
/// node.json names.
/// </summary>
internal sealed class GrpcBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcBackend(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>http://127.0.0.1:PORT, no trailing slash.</summary>
    public string Address { get; }

    /// <summary>Starts a server of <typeparamref name="TService"/> (a generated service base's implementation).</summary>
    public static async Task<GrpcBackend> StartAsync<TService>()
        where TService : class
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseBusGrpc(null)));
        builder.Services.AddBusGrpc();
        var app = builder.Build();
        app.MapGrpcService<TService>();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).ToString().TrimEnd('/');
        return new GrpcBackend(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
