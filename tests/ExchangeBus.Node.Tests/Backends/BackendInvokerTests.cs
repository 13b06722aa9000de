// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Backends;

/// <summary>A gRPC backend that does not speak gRPC, on a real HTTP/2 socket; which calls never reach a backend.</summary>
public sealed class BackendInvokerTests
{
    [Test]
    public async Task GrpcBackendAnswersAnHtmlPage_ServiceFailed_NotTakenForTheCallerLeaving()
    {
        // Grpc.Net.Client ends such a call CANCELLED; it is the service failing.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseBusGrpc(null)));
        await using var app = builder.Build();
        app.MapPost("/test.Html/Page", () => Results.Content("<html><body>Maintenance</body></html>", "text/html"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var invoker = new BackendInvoker();
        var service = new ServiceSettings
        {
            Service = "VN/GOV/000.00.00.H01/registry/page/v1",
            Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = address, Method = "/test.Html/Page" },
        };
        var call = new BackendCall("m-1", "VN/GOV/000.00.00.G01/licence", service.Service, "officer", string.Empty, string.Empty, new byte[] { 1, 2, 3 }, new Dictionary<string, string>());

        var ex = await Assert.ThrowsAsync<NodeException>(() => invoker.InvokeAsync(service, call, DateTimeOffset.UtcNow.AddSeconds(30), CancellationToken.None));

        Assert.That(ex!.Code, Is.EqualTo(NodeErrors.ServiceFailed));
        await app.StopAsync();
    }

    // Nothing listens at these addresses: each refusal must come before any connection is tried.
    [TestCase(BackendKind.Http)]
    [TestCase(BackendKind.Grpc)]
    public async Task RestRequest_ToAServiceWhoseBackendIsNotRest_UnknownService(BackendKind kind) =>
        Assert.That((await RefusedAsync(kind, maxBodyBytes: null, body: 1, rest: true)).Code, Is.EqualTo(NodeErrors.UnknownService));

    [TestCase(BackendKind.Http)]
    [TestCase(BackendKind.Rest)]
    public async Task BodyOverTheServicesMaxBodyBytes_PayloadTooLarge(BackendKind kind) =>
        Assert.That((await RefusedAsync(kind, maxBodyBytes: 4, body: 5, rest: kind == BackendKind.Rest)).Code, Is.EqualTo(NodeErrors.PayloadTooLarge));

    private static async Task<NodeException> RefusedAsync(BackendKind kind, int? maxBodyBytes, int body, bool rest)
    {
        using var invoker = new BackendInvoker();
        var service = new ServiceSettings
        {
            Service = "VN/GOV/000.00.00.H01/registry/page",
            Backend = new BackendSettings { Kind = kind, Address = "http://127.0.0.1:9/", Method = kind == BackendKind.Grpc ? "/test.Html/Page" : null },
            MaxBodyBytes = maxBodyBytes,
        };
        var metadata = rest ? new Dictionary<string, string> { ["rest.method"] = "POST", ["rest.path"] = "/x" } : [];
        var call = new BackendCall("m-2", "VN/GOV/000.00.00.G01/licence", service.Service, "", "", "", new byte[body], metadata);

        return (await Assert.ThrowsAsync<NodeException>(() => invoker.InvokeAsync(service, call, DateTimeOffset.UtcNow.AddSeconds(30), CancellationToken.None)))!;
    }
}
