// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace ExchangeBus.Grpc.Tests;

/// <summary>
/// What a misbehaving client sends, written byte by byte onto a real mutual-TLS HTTP/2
/// connection, and what our server must answer.
/// </summary>
public sealed class MalformedRequestTests
{
    private GrpcTestServer _server = null!;
    private HttpMessageInvoker _raw = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _server = await GrpcTestServer.StartMutualTlsAsync();
        var certs = TestCertificates.Instance;
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [certs.Client];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
            new CertificateTrust([certs.Root], TimeProvider.System).Validate((X509Certificate2)cert!, CertificateTrust.ServerAuthentication).IsTrusted;
        _raw = new HttpMessageInvoker(handler);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _raw.Dispose();
        await _server.DisposeAsync();
    }

    private static readonly byte[] ValidMessage = new EchoRequest { Text = "hi" }.ToByteArray();

    [Test]
    public async Task TruncatedFrame_Internal()
    {
        var (_, status, message) = await SendAsync([0, 0, 0, 0, 10, 1, 2, 3]);
        Assert.That(status, Is.EqualTo("13"));
        Assert.That(message, Does.Contain("Incomplete message"));
    }

    [Test]
    public async Task HugeLengthPrefix_ResourceExhaustedWithoutReadingIt()
    {
        var (_, status, _) = await SendAsync([0, 0xFF, 0xFF, 0xFF, 0xF0]);
        Assert.That(status, Is.EqualTo("8"));
    }

    [Test]
    public async Task CompressedFlagWithoutEncoding_Internal()
    {
        var (_, status, _) = await SendAsync(Frame(ValidMessage, flag: 1));
        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task BytesThatAreNotProtobuf_Internal()
    {
        var (_, status, message) = await SendAsync(Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.That(status, Is.EqualTo("13"));
        Assert.That(message, Does.Contain("deserialize"));
    }

    [Test]
    public async Task TwoMessagesToUnaryMethod_Internal()
    {
        var (_, status, _) = await SendAsync([.. Frame(ValidMessage), .. Frame(ValidMessage)]);
        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task EmptyBodyToUnaryMethod_Internal()
    {
        var (_, status, _) = await SendAsync([]);
        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task NotGrpcContentType_Http415()
    {
        var (http, status, _) = await SendAsync(Frame(ValidMessage), contentType: "application/json");
        Assert.That(http, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(status, Is.Null);
    }

    [Test]
    public async Task MalformedTimeout_Internal()
    {
        var (_, status, _) = await SendAsync(Frame(ValidMessage), extraHeader: ("grpc-timeout", "soon"));
        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task CompressionAsked_Unimplemented()
    {
        var (_, status, _) = await SendAsync(Frame(ValidMessage), extraHeader: ("grpc-encoding", "gzip"));
        Assert.That(status, Is.EqualTo("12"));
    }

    [Test]
    public async Task BadBase64InBinaryMetadata_Internal()
    {
        var (_, status, _) = await SendAsync(Frame(ValidMessage), extraHeader: ("x-trace-bin", "***"));
        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task ValidFrame_StillServedAfterAllThat()
    {
        var (http, status, _) = await SendAsync(Frame(ValidMessage));
        Assert.That(http, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(status, Is.EqualTo("0"));
    }

    private static byte[] Frame(byte[] message, byte flag = 0)
    {
        var frame = new byte[5 + message.Length];
        GrpcProtocol.WriteHeader(frame, message.Length);
        frame[0] = flag;
        message.CopyTo(frame, 5);
        return frame;
    }

    private async Task<(HttpStatusCode Http, string? Status, string? Message)> SendAsync(
        byte[] body, string contentType = "application/grpc", (string Name, string Value)? extraHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Address, InteropService.Unary.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        if (extraHeader is { } h)
        {
            request.Headers.TryAddWithoutValidation(h.Name, h.Value);
        }

        using var response = await _raw.SendAsync(request, CancellationToken.None);
        await response.Content.ReadAsByteArrayAsync();
        string? Find(string name) =>
            response.Headers.TryGetValues(name, out var v) ? v.First()
            : response.TrailingHeaders.TryGetValues(name, out var t) ? t.First() : null;
        return (response.StatusCode, Find("grpc-status"), Find("grpc-message"));
    }
}

/// <summary>What a misbehaving server sends, and what our client must make of it.</summary>
public sealed class MisbehavingServerTests
{
    [Test]
    public async Task ResponseEndsInsideAMessage_Internal()
    {
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "application/grpc";
            await http.Response.Body.WriteAsync(new byte[] { 0, 0, 0, 0, 50, 1, 2 });
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(ex.Status.Detail, Does.Contain("Incomplete"));
    }

    [Test]
    public async Task ResponseWithoutStatusTrailer_Internal()
    {
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "application/grpc";
            var reply = new EchoReply { Text = "x" }.ToByteArray();
            var frame = new byte[5 + reply.Length];
            GrpcProtocol.WriteHeader(frame, reply.Length);
            reply.CopyTo(frame, 5);
            await http.Response.Body.WriteAsync(frame);
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(ex.Status.Detail, Does.Contain("without a grpc-status"));
    }

    [Test]
    public async Task HugeLengthPrefixFromServer_ResourceExhausted()
    {
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "application/grpc";
            await http.Response.Body.WriteAsync(new byte[] { 0, 0x7F, 0xFF, 0xFF, 0xFF });
            await Task.Delay(Timeout.Infinite, http.RequestAborted);
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task NotFoundHttpResponse_Unimplemented()
    {
        await using var server = await FakeServer.StartAsync(http =>
        {
            http.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
    }

    [Test]
    public async Task HtmlInsteadOfGrpc_Unknown()
    {
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "text/html";
            await http.Response.WriteAsync("<html>proxy error</html>");
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unknown));
    }

    [Test]
    public async Task GarbledStatusDetails_CodeStillDelivered()
    {
        await using var server = await FakeServer.StartAsync(http =>
        {
            http.Response.ContentType = "application/grpc";
            http.Response.Headers["grpc-status"] = "7";
            http.Response.Headers["grpc-status-details-bin"] = "////";
            return Task.CompletedTask;
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.ErrorCode, Is.Null);
    }

    private static async Task<RpcException> CallAsync(FakeServer server)
    {
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions());
        return await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Unary, new EchoRequest(), new CallOptions(Deadline: DateTimeOffset.UtcNow.AddSeconds(20))))
            ?? throw new AssertionException("no exception");
    }
}

/// <summary>Mutual TLS refusals: each peer must be turned away during the handshake.</summary>
public sealed class TlsTests
{
    private static TestCertificates Certs => TestCertificates.Instance;

    [Test]
    public async Task ClientCertificateFromForeignCa_Refused()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync();
        using var channel = server.CreateChannel(Certs.ForeignClient);
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Unary, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task ExpiredClientCertificate_Refused()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync();
        using var channel = server.CreateChannel(Certs.ExpiredClient);
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Unary, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task NoClientCertificate_Refused()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync();
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions
        {
            ServerTrust = new CertificateTrust([Certs.Root], TimeProvider.System),
        });
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Unary, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public async Task ChainValidClientRefusedByExtraCheck_Refused()
    {
        var allowed = Certs.Client.Thumbprint;
        await using var server = await GrpcTestServer.StartAsync(new ServerTlsOptions
        {
            ServerCertificate = Certs.Server,
            ClientTrust = new CertificateTrust([Certs.Root], TimeProvider.System),
            ClientCertificateCheck = c => c.Thumbprint == allowed,
        });
        using var refused = server.CreateChannel(Certs.OtherClient);
        var ex = await Assert.ThrowsAsync<RpcException>(() => refused.UnaryAsync(InteropService.Unary, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));

        using var accepted = server.CreateChannel(Certs.Client);
        var reply = await accepted.UnaryAsync(InteropService.Unary, new EchoRequest { Text = "ok" });
        Assert.That(reply.Text, Is.EqualTo("ok"));
    }

    [Test]
    public async Task ServerCertificateFromForeignCa_ClientRefuses()
    {
        await using var server = await GrpcTestServer.StartAsync(new ServerTlsOptions { ServerCertificate = Certs.ForeignServer });
        using var channel = server.CreateChannel();
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Unary, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.Status.Detail, Does.Contain("TLS handshake"));
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task ServerNameNotInCertificate_ClientRefuses()
    {
        await using var server = await GrpcTestServer.StartAsync(
            new ServerTlsOptions { ServerCertificate = Certs.Server }, listenAddress: IPAddress.Parse("127.0.0.2"), host: "127.0.0.2");
        using var channel = server.CreateChannel();
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Unary, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.Status.Detail, Does.Contain("TLS handshake"));
    }

    [Test]
    public async Task ServerNeverAnswersTheHandshake_UnavailableOnceTheConnectTimeoutPasses()
    {
        // A host gone dark: the connection is taken and nothing ever comes back. The server was
        // never reached, so the call is Unavailable (callers may try another server), not Cancelled.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptTcpClientAsync();
        using var channel = GrpcChannel.ForAddress(new Uri($"https://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), new GrpcChannelOptions
        {
            ServerTrust = new CertificateTrust([Certs.Root], TimeProvider.System),
            ClientCertificate = Certs.Client,
            ConnectTimeout = TimeSpan.FromSeconds(1),
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Unary, new EchoRequest(), new CallOptions(Deadline: DateTimeOffset.UtcNow.AddMinutes(2))));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.Status.Detail, Does.Contain("connect timeout"));
        Assert.That(accepted.IsCompletedSuccessfully, Is.True, "the client did connect");
        using var connection = await accepted;
    }

    [Test]
    public void HttpsChannelWithoutTrust_RefusedAtCreation() =>
        Assert.Throws<ArgumentException>(() => GrpcChannel.ForAddress(new Uri("https://localhost:1"), new GrpcChannelOptions()));
}
