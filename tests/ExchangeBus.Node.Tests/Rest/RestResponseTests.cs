// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Rest;
using Microsoft.AspNetCore.Http;

namespace ExchangeBus.Node.Tests.Rest;

/// <summary>What an r1 caller gets back, on the error and response examples of X-Road's PR-REST 1.0.4 (4.6 and 6).</summary>
public sealed class RestResponseTests
{
    [TestCase("Server.ServerProxy.NetworkError", "Connect to 10.139.178.1:8080 [/10.139.178.1] failed: Connection timed out (Connection timed out)", "9bc95b6e-2f1d-4a41-a7e6-11eda7d734d5", 500)] // example 2
    [TestCase("Client.BadRequest", "Error parsing the client's REST request. Please that the request format corresponds to the X-Road Message Protocol for REST (r1).", "018cbcae-537e-421b-b6f6-2608dc97bd90", 400)] // example 3
    [TestCase("Server.ServerProxy.DatabaseError", "Error accessing database (serverconf)", "3c4d0f08-440f-417f-b935-bc801e103d51", 500)] // example 4
    [TestCase("Server.ClientProxy.OutdatedGlobalConf", "The global configuration is out of date.", "0HN8", 500)] // example 5, the client's node
    public async Task Section46Examples_StatusHeaderAndBody(string type, string message, string detail, int status)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await RestErrorWriter.WriteAsync(context.Response, type, message, detail, CancellationToken.None);

        var body = ((MemoryStream)context.Response.Body).ToArray();
        using var json = JsonDocument.Parse(body);
        Assert.Multiple(() =>
        {
            Assert.That(context.Response.StatusCode, Is.EqualTo(status));
            Assert.That(context.Response.ContentType, Is.EqualTo("application/json;charset=utf-8"));
            Assert.That(context.Response.Headers["X-Road-Error"].ToString(), Is.EqualTo(type));
            Assert.That(context.Response.ContentLength, Is.EqualTo(body.Length));
            Assert.That(json.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "type", "message", "detail" }));
            Assert.That(json.RootElement.GetProperty("type").GetString(), Is.EqualTo(type));
            Assert.That(json.RootElement.GetProperty("message").GetString(), Is.EqualTo(message));
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Is.EqualTo(detail));
        });
    }

    [Test]
    public void Body_IsCompactJsonWithReadableApostrophes()
    {
        var body = RestErrorWriter.Body("Client.BadRequest", "the client's request", "d");

        Assert.That(System.Text.Encoding.UTF8.GetString(body), Is.EqualTo("""{"type":"Client.BadRequest","message":"the client's request","detail":"d"}"""));
    }

    [TestCase(NodeErrors.InvalidIdentifier, 400)]
    [TestCase(NodeErrors.ClientNotAuthenticated, 400)]
    [TestCase(NodeErrors.PayloadTooLarge, 400)]
    [TestCase(NodeErrors.UnknownClient, 500)]
    [TestCase(NodeErrors.ProviderUnreachable, 500)]
    [TestCase(NodeErrors.AccessDenied, 500)]
    [TestCase(NodeErrors.ServiceTimeout, 500)]
    [TestCase("Server.InternalError", 500)]
    public void BusCodes_MapToXRoadCategories(string code, int status) =>
        Assert.That(RestErrorWriter.StatusFor(code), Is.EqualTo(status));

    [Test]
    public async Task NodeException_CodeIsTheType()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();

        await RestErrorWriter.WriteAsync(context.Response, new NodeException(global::Grpc.Core.StatusCode.PermissionDenied, NodeErrors.AccessDenied, "VN/GOV/1/a may not call VN/GOV/2/b/c."), "corr-1", CancellationToken.None);

        using var json = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(context.Response.StatusCode, Is.EqualTo(500));
            Assert.That(context.Response.Headers["X-Road-Error"].ToString(), Is.EqualTo(NodeErrors.AccessDenied));
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Is.EqualTo("corr-1"));
        });
    }

    [Test]
    public void Section46Example1_BackendErrorReturnedAsIs_XRoadHeadersOverwritten()
    {
        // Category 1: the provider's 405 and its headers pass; the node sets the X-Road headers, over any the backend sent.
        var context = new DefaultHttpContext();
        RestResponseHeaders.ApplyBackend(context.Response, new Dictionary<string, string>
        {
            ["rest.status"] = "405",
            ["rest.h.content-type"] = "application/json;charset=utf-8",
            ["rest.h.set-cookie"] = "a=1\nb=2",
            ["rest.h.x-road-request-hash"] = "forged by the backend",
            ["rest.h.transfer-encoding"] = "chunked",
            ["rest.method"] = "PUT",
        });
        var hash = Convert.FromBase64String("yFOLGuJ0zmLhZSgwp3ooSBQbR9ejSvTc6p6FvBmcSEB2tDD6bxpjiv8sHORxqz4MMgEADH7IcARNprLfEwudNw==");
        RestResponseHeaders.ApplyXRoad(context.Response.Headers, "5ea48ae9-15c1-465a-be15-9b6ef2c7ef4a",
            SubsystemId.Parse("DEV/COM/222/TESTCLIENT"), ServiceId.Parse("DEV/COM/222/TESTSERVICE/petstore"), "f92591a3-6bf0-49b1-987b-0dd78c034cc3", hash);

        var headers = context.Response.Headers;
        Assert.Multiple(() =>
        {
            Assert.That(context.Response.StatusCode, Is.EqualTo(405));
            Assert.That(headers.ContentType.ToString(), Is.EqualTo("application/json;charset=utf-8"));
            Assert.That(headers["set-cookie"].ToArray(), Is.EqualTo(new[] { "a=1", "b=2" }));
            Assert.That(headers.ContainsKey("transfer-encoding"), Is.False);
            Assert.That(headers.ContainsKey("X-Road-Error"), Is.False, "a backend's own error carries no X-Road-Error (example 5 A)");
            Assert.That(headers["x-road-id"].ToString(), Is.EqualTo("5ea48ae9-15c1-465a-be15-9b6ef2c7ef4a"));
            Assert.That(headers["x-road-client"].ToString(), Is.EqualTo("DEV/COM/222/TESTCLIENT"));
            Assert.That(headers["x-road-service"].ToString(), Is.EqualTo("DEV/COM/222/TESTSERVICE/petstore"));
            Assert.That(headers["x-road-request-id"].ToString(), Is.EqualTo("f92591a3-6bf0-49b1-987b-0dd78c034cc3"));
            Assert.That(headers["x-road-request-hash"].ToString(), Is.EqualTo("yFOLGuJ0zmLhZSgwp3ooSBQbR9ejSvTc6p6FvBmcSEB2tDD6bxpjiv8sHORxqz4MMgEADH7IcARNprLfEwudNw=="));
        });
    }

    [Test]
    public void NoXRoadIdFromTheClient_OurMessageIdStandsForIt()
    {
        var headers = new HeaderDictionary();
        RestResponseHeaders.ApplyXRoad(headers, null, SubsystemId.Parse("VN/GOV/000.00.00.P01/one-stop"),
            ServiceId.Parse("VN/GOV/000.00.00.H01/registry/citizens"), "0123456789abcdef0123456789abcdef", new byte[32]);

        Assert.That((headers["X-Road-Id"].ToString(), headers["X-Road-Request-Id"].ToString()),
            Is.EqualTo(("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef")));
    }

    [TestCase("")]
    [TestCase("/")]
    [TestCase("/v2/pets/1124")]
    [TestCase("/v2/pets/a%20b")]
    [TestCase("/files/report.v2.pdf")]
    public void SafePaths(string path) => Assert.That(RestPath.IsSafe(path), Is.True);

    [TestCase("v2/pets")]
    [TestCase("//evil.example/")]
    [TestCase("/v2/../admin")]
    [TestCase("/v2/.")]
    [TestCase("/v2/%2e%2E/admin")]
    [TestCase("/v2/a%2F..%2Fb")]
    [TestCase("/v2/a%5Cb")]
    [TestCase("/v2\\admin")]
    [TestCase("/v2#frag")]
    [TestCase("/v2/a b")]
    public void UnsafePaths(string path) => Assert.That(RestPath.IsSafe(path), Is.False);
}
