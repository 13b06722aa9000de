// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;
using System.Text;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Rest;

/// <summary>The provider node's call to a REST backend, against a real HTTP/1.1 server on loopback.</summary>
public sealed class RestBackendTests
{
    private WebApplication _app = null!;
    private string _base = "";
    private Seen? _seen;

    [SetUp]
    public async Task StartBackend()
    {
        _seen = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Map("/{**rest}", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            _seen = new Seen(context.Request.Method, context.Features.Get<IHttpRequestFeature>()!.RawTarget, headers, body.ToArray());
            if (context.Request.Path.StartsWithSegments("/base/v2/missing"))
            {
                context.Response.StatusCode = 404;
                await context.Response.WriteAsJsonAsync(new { status = 404, error = "Not Found" });
                return;
            }

            context.Response.StatusCode = 201;
            context.Response.Headers["X-Powered-By"] = "PHP/5.2.17";
            context.Response.Headers.Append("Set-Cookie", "a=1");
            context.Response.Headers.Append("Set-Cookie", "b=2");
            context.Response.Headers["X-Road-Request-Hash"] = "forged by the backend";
            context.Response.ContentType = "application/json;charset=utf-8";
            await context.Response.WriteAsync("""{"id":5657082955040009,"name":"doggie"}""");
        });
        await _app.StartAsync();
        _base = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/base/";
    }

    [TearDown]
    public async Task StopBackend() => await _app.DisposeAsync();

    [Test]
    public async Task Section63Put_BackendGetsMethodPathQueryHeadersBody_AndItsAnswerComesBack()
    {
        using var backend = new RestBackend();
        var body = Encoding.UTF8.GetBytes("""{ "id": 0, "name": "doggie", "status": "available"}""");

        var reply = await backend.InvokeAsync(_base, Call(body, new()
        {
            ["rest.method"] = "PUT",
            ["rest.path"] = "/v2/pets/5657082955040009",
            ["rest.query"] = "dry=1&note=a%20b",
            ["rest.x-road-id"] = "fa2e18a5-c2cb-4d09-b994-f57727f7c3fb",
            ["rest.h.accept"] = "application/json",
            ["rest.h.content-type"] = "application/json",
            ["rest.h.authorization"] = "Bearer token",
            ["rest.h.host"] = "smuggled.example",
        }), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(_seen!.Method, Is.EqualTo("PUT"));
            Assert.That(_seen.RawTarget, Is.EqualTo("/base/v2/pets/5657082955040009?dry=1&note=a%20b"));
            Assert.That(_seen.Body, Is.EqualTo(body));
            Assert.That(_seen.Headers["content-type"], Is.EqualTo("application/json"));
            Assert.That(_seen.Headers["accept"], Is.EqualTo("application/json"));
            Assert.That(_seen.Headers["authorization"], Is.EqualTo("Bearer token"));
            Assert.That(_seen.Headers["host"], Does.StartWith("127.0.0.1:"), "Host is filtered, never taken from the caller");
            Assert.That(_seen.Headers["x-road-client"], Is.EqualTo("DEV/COM/222/TESTCLIENT"));
            Assert.That(_seen.Headers["x-road-service"], Is.EqualTo("DEV/COM/222/TESTSERVICE/petstore"));
            Assert.That(_seen.Headers["x-road-id"], Is.EqualTo("fa2e18a5-c2cb-4d09-b994-f57727f7c3fb"));
            Assert.That(_seen.Headers["x-road-userid"], Is.EqualTo("EE12345678901"));

            Assert.That(Encoding.UTF8.GetString(reply.Payload), Is.EqualTo("""{"id":5657082955040009,"name":"doggie"}"""));
            Assert.That(reply.Metadata["rest.status"], Is.EqualTo("201"));
            Assert.That(reply.Metadata["rest.h.content-type"], Is.EqualTo("application/json;charset=utf-8"), "4.3: unmodified");
            Assert.That(reply.Metadata["rest.h.x-powered-by"], Is.EqualTo("PHP/5.2.17"));
            Assert.That(reply.Metadata["rest.h.set-cookie"], Is.EqualTo("a=1\nb=2"));
            Assert.That(reply.Metadata.Keys, Has.None.EqualTo("rest.h.x-road-request-hash").And.None.EqualTo("rest.h.server").And.None.EqualTo("rest.h.transfer-encoding").And.None.EqualTo("rest.h.content-length"));
        });
    }

    [Test]
    public async Task Section46Category1_BackendsOwn404IsAnAnswer()
    {
        using var backend = new RestBackend();

        var reply = await backend.InvokeAsync(_base, Call([], new() { ["rest.method"] = "GET", ["rest.path"] = "/v2/missing/1", ["rest.h.accept"] = "application/json" }),
            DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reply.Metadata["rest.status"], Is.EqualTo("404"));
            Assert.That(Encoding.UTF8.GetString(reply.Payload), Does.Contain("Not Found"));
            Assert.That(_seen!.Headers.ContainsKey("x-road-id"), Is.True, "with no X-Road-Id from the client, the message id stands for it");
            Assert.That(_seen.Headers["x-road-id"], Is.EqualTo("0123456789abcdef0123456789abcdef"));
        });
    }

    [TestCase("GET", "/../admin", "")]
    [TestCase("GET", "/v2/%2e%2e/%2e%2e/admin", "")]
    [TestCase("GET", "//evil.example/x", "")]
    [TestCase("GET", "/v2", "a=1#frag")]
    [TestCase("G T", "/v2", "")]
    [TestCase(null, "/v2", "")]
    public async Task UnsafeRequest_RefusedBeforeTheBackendIsCalled(string? method, string path, string query)
    {
        using var backend = new RestBackend();
        var metadata = new Dictionary<string, string> { ["rest.path"] = path, ["rest.query"] = query };
        if (method is not null)
        {
            metadata["rest.method"] = method;
        }

        var refusal = await Assert.ThrowsAsync<NodeException>(() => backend.InvokeAsync(_base, Call([], metadata), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(refusal!.Code, Is.EqualTo(NodeErrors.BadRequest));
            Assert.That(_seen, Is.Null);
        });
    }

    [Test]
    public async Task BackendDown_ServiceUnavailable()
    {
        using var backend = new RestBackend();
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var refusal = await Assert.ThrowsAsync<NodeException>(() => backend.InvokeAsync($"http://127.0.0.1:{port}/", Call([], new() { ["rest.method"] = "GET", ["rest.path"] = "/v2" }),
            DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));

        Assert.That(refusal!.Code, Is.EqualTo(NodeErrors.ServiceUnavailable));
    }

    [Test]
    public async Task ReplyOverTheServicesCap_ServiceFailed()
    {
        using var backend = new RestBackend();

        var refusal = await Assert.ThrowsAsync<NodeException>(() => backend.InvokeAsync(_base, Call([], new() { ["rest.method"] = "GET", ["rest.path"] = "/v2/pets/1" }),
            DateTimeOffset.UtcNow.AddMinutes(1), maxBodyBytes: 10, CancellationToken.None));

        Assert.That(refusal!.Code, Is.EqualTo(NodeErrors.ServiceFailed));
        Assert.That(_seen, Is.Not.Null, "the backend was called; its answer was too large");
    }

    private static BackendCall Call(byte[] body, Dictionary<string, string> metadata) => new(
        "0123456789abcdef0123456789abcdef", "DEV/COM/222/TESTCLIENT", "DEV/COM/222/TESTSERVICE/petstore", "EE12345678901", "", "", body, metadata);

    private sealed record Seen(string Method, string RawTarget, Dictionary<string, string> Headers, byte[] Body);
}
