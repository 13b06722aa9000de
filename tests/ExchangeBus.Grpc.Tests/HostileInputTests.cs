// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Http;

namespace ExchangeBus.Grpc.Tests;

/// <summary>
/// What a misbehaving client sends, written byte by byte onto a real mutual-TLS HTTP/2
/// connection, and what our server (the official runtime as AddBusGrpc sets it up) answers.
/// </summary>
public sealed class MalformedRequestTests
{
    private static readonly byte[] ValidMessage = new EchoRequest { Text = "hi" }.ToByteArray();

    private GrpcTestServer _server = null!;
    private HttpMessageInvoker _raw = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _server = await GrpcTestServer.StartMutualTlsAsync();
        _raw = RawGrpc.Invoker();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _raw.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task TruncatedFrame_Internal()
    {
        var answer = await SendAsync([0, 0, 0, 0, 10, 1, 2, 3]);
        Assert.That(answer.Status, Is.EqualTo("13"));
        Assert.That(answer.Message, Does.Contain("Incomplete message"));
    }

    [Test]
    public async Task LengthPrefixOverTheLimit_ResourceExhaustedWhileTheBodyNeverEnds()
    {
        // 2 GiB - 1 declared, and the request never ends: the answer comes from the prefix alone.
        var answer = await SendAsync([0, 0x7F, 0xFF, 0xFF, 0xFF], endless: true);
        Assert.That(answer.Status, Is.EqualTo("8"));
    }

    [Test]
    public async Task LengthPrefixPastTwoGigabytes_UnknownWhileTheBodyNeverEnds()
    {
        // The runtime reads a prefix of 2 GiB or more as an IOException ("Message too large"),
        // not as its limit, so the answer is UNKNOWN rather than RESOURCE_EXHAUSTED; the prefix is
        // still all it reads.
        var answer = await SendAsync([0, 0xFF, 0xFF, 0xFF, 0xF0], endless: true);
        Assert.That(answer.Status, Is.EqualTo("2"));
        Assert.That(answer.Message, Is.EqualTo("Exception was thrown by handler."));
    }

    [Test]
    public async Task CompressedFlagWithoutEncoding_Internal()
    {
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage, flag: 1));
        Assert.That(answer.Status, Is.EqualTo("13"));
    }

    [Test]
    public async Task UnknownFlag_Unknown()
    {
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage, flag: 0x80));
        Assert.That(answer.Status, Is.EqualTo("2"));
        Assert.That(answer.Message, Is.EqualTo("Exception was thrown by handler."));
    }

    [Test]
    public async Task BytesThatAreNotProtobuf_UnknownWithoutTheParsersText()
    {
        var answer = await SendAsync(RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.That(answer.Status, Is.EqualTo("2"));
        Assert.That(answer.Message, Is.EqualTo("Exception was thrown by handler."));
    }

    [Test]
    public async Task TwoMessagesToUnaryMethod_Internal()
    {
        var answer = await SendAsync([.. RawGrpc.Frame(ValidMessage), .. RawGrpc.Frame(ValidMessage)]);
        Assert.That(answer.Status, Is.EqualTo("13"));
    }

    [Test]
    public async Task EmptyBodyToUnaryMethod_Internal()
    {
        var answer = await SendAsync([]);
        Assert.That(answer.Status, Is.EqualTo("13"));
    }

    [Test]
    public async Task NotGrpcContentType_Http415()
    {
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage), contentType: "application/json");
        Assert.That(answer.Http, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(answer.Status, Is.EqualTo("13"));
    }

    [Test]
    public async Task MalformedTimeout_IgnoredAndServed()
    {
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage), extraHeader: ("grpc-timeout", "soon"));
        Assert.That(answer.Status, Is.EqualTo("0"));
    }

    [Test]
    public async Task GzipCompressedMessage_UnimplementedWithoutInflatingIt()
    {
        // 16 MiB of payload in about 16 KiB of gzip: inflated, it would pass the 4 MiB limit,
        // which the runtime checks only against the compressed bytes.
        var answer = await SendAsync(RawGrpc.Frame(RawGrpc.Gzip(RawGrpc.Bomb()), flag: 1), extraHeader: ("grpc-encoding", "gzip"));
        Assert.That(answer.Status, Is.EqualTo("12"));
        Assert.That(answer.AcceptEncoding, Is.EqualTo("identity"));
    }

    [Test]
    public async Task GzipNamedButMessageNotCompressed_Served()
    {
        // Compression is per message: the flag says this one is not, whatever grpc-encoding says.
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage), extraHeader: ("grpc-encoding", "gzip"));
        Assert.That(answer.Status, Is.EqualTo("0"));
    }

    [Test]
    public async Task BadBase64InBinaryMetadata_UnknownWithCorrelationId()
    {
        // The runtime decodes metadata when the handler first reads it; the FormatException then
        // reaches the bus's ErrorInterceptor, which answers as for any handler failure.
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage), extraHeader: ("x-trace-bin", "***"));
        Assert.That(answer.Status, Is.EqualTo("2"));
        Assert.That(answer.ErrorCode, Is.EqualTo(RichStatus.InternalErrorCode));
        Assert.That(answer.CorrelationId, Is.Not.Empty);
    }

    [Test]
    public async Task ValidFrame_StillServedAfterAllThat()
    {
        var answer = await SendAsync(RawGrpc.Frame(ValidMessage));
        Assert.That(answer.Http, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(answer.Status, Is.EqualTo("0"));
    }

    private Task<RawGrpc.Answer> SendAsync(
        byte[] body, string contentType = "application/grpc", (string Name, string Value)? extraHeader = null, bool endless = false) =>
        RawGrpc.SendAsync(_raw, new Uri(_server.Address, InteropService.UnaryPath), body, contentType, extraHeader, endless);
}

/// <summary>What a misbehaving server sends, and what our client (BusChannel) makes of it.</summary>
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
    }

    [Test]
    public async Task ResponseWithoutStatusTrailer_Cancelled()
    {
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "application/grpc";
            await http.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Text = "x" }.ToByteArray()));
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        Assert.That(ex.Status.Detail, Does.Contain("No grpc-status"));
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
    public async Task GzipCompressedReply_UnimplementedWithoutInflatingIt()
    {
        // 16 MiB in about 16 KiB of gzip: inflated, it would pass the client's 4 MiB limit, which
        // the runtime checks only against the compressed bytes.
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "application/grpc";
            http.Response.Headers["grpc-encoding"] = "gzip";
            http.Response.AppendTrailer("grpc-status", "0");
            await http.Response.Body.WriteAsync(RawGrpc.Frame(RawGrpc.Gzip(RawGrpc.Bomb()), flag: 1));
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(ex.Status.Detail, Does.Contain("Unsupported grpc-encoding value 'gzip'"));
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
    public async Task HtmlInsteadOfGrpc_Cancelled()
    {
        await using var server = await FakeServer.StartAsync(async http =>
        {
            http.Response.ContentType = "text/html";
            await http.Response.WriteAsync("<html>proxy error</html>");
        });
        var ex = await CallAsync(server);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        Assert.That(ex.Status.Detail, Does.Contain("content-type"));
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
        using var channel = BusChannel.Create(server.Address, new BusChannelOptions());
        return await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(20)))
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
        var ex = await CallAsync(channel);
        AssertRefusedByTheServer(ex);
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task ExpiredClientCertificate_Refused()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync();
        using var channel = server.CreateChannel(Certs.ExpiredClient);
        var ex = await CallAsync(channel);
        AssertRefusedByTheServer(ex);
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task NoClientCertificate_Refused()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync();
        using var channel = BusChannel.Create(server.Address, new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([Certs.Root], TimeProvider.System),
        });
        var ex = await CallAsync(channel);
        AssertRefusedByTheServer(ex);
        Assert.That(server.Service.ConnectionIds, Is.Empty);
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
        var ex = await CallAsync(refused);
        AssertRefusedByTheServer(ex);
        Assert.That(server.Service.ConnectionIds, Is.Empty);

        using var accepted = server.CreateChannel(Certs.Client);
        var reply = await new Interop.InteropClient(accepted).UnaryAsync(new EchoRequest { Text = "ok" });
        Assert.That(reply.Text, Is.EqualTo("ok"));
    }

    [Test]
    public async Task ServerCertificateFromForeignCa_ClientRefuses()
    {
        await using var server = await GrpcTestServer.StartAsync(new ServerTlsOptions { ServerCertificate = Certs.ForeignServer });
        using var channel = server.CreateChannel();
        var ex = await CallAsync(channel);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unavailable), ex.ToString());
        Assert.That(ex.Status.Detail, Does.Contain("SSL connection could not be established"));
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task ServerNameNotInCertificate_ClientRefuses()
    {
        await using var server = await GrpcTestServer.StartAsync(
            new ServerTlsOptions { ServerCertificate = Certs.Server }, listenAddress: IPAddress.Parse("127.0.0.2"), host: "127.0.0.2");
        using var channel = server.CreateChannel();
        var ex = await CallAsync(channel);
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unavailable), ex.ToString());
        Assert.That(ex.Status.Detail, Does.Contain("SSL connection could not be established"));
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task ServerNeverAnswersTheHandshake_UnavailableOnceTheConnectTimeoutPasses()
    {
        // A host gone dark: the connection is taken and nothing ever comes back. The server was
        // never reached, so the call is Unavailable (callers may try another server), not Cancelled
        // or DeadlineExceeded.
        var (ex, connected) = await CallSilentServerAsync(connectTimeout: TimeSpan.FromSeconds(1), deadline: TimeSpan.FromMinutes(2));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.Status.Detail, Does.Contain("connect timeout"));
        Assert.That(connected, Is.True, "the client did connect");
    }

    [Test]
    public async Task ServerNeverAnswersTheHandshake_TheDeadlineComesFirst_DeadlineExceeded()
    {
        // The caller's own deadline is not a server out of reach.
        var (ex, _) = await CallSilentServerAsync(connectTimeout: TimeSpan.FromMinutes(2), deadline: TimeSpan.FromSeconds(1));

        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
    }

    [Test]
    public void HttpsChannelWithoutTrust_RefusedAtCreation() =>
        Assert.Throws<ArgumentException>(() => BusChannel.Create(new Uri("https://localhost:1"), new BusChannelOptions()));

    /// <summary>
    /// Our certificate refused by the server. Under TLS 1.3 the server judges it after our side of
    /// the handshake is done, so the refusal arrives either while HTTP/2 reads the answer (an
    /// IOException: UNAVAILABLE) or while the new connection is still being set up, before any
    /// stream (a bare HttpRequestException that Grpc.Net.Client calls INTERNAL). Which one is a race;
    /// neither reached a handler.
    /// </summary>
    private static void AssertRefusedByTheServer(RpcException ex) =>
        Assert.That(ex.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal), ex.ToString());

    /// <summary>Calls a listener that takes the connection and never says a word; whether it was connected to.</summary>
    private static async Task<(RpcException Failure, bool Connected)> CallSilentServerAsync(TimeSpan connectTimeout, TimeSpan deadline)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptTcpClientAsync();
        using var channel = BusChannel.Create(new Uri($"https://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([Certs.Root], TimeProvider.System),
            ClientCertificate = Certs.Client,
            ConnectTimeout = connectTimeout,
        });

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest(), deadline: DateTime.UtcNow.Add(deadline)));
        var connected = accepted.IsCompletedSuccessfully;
        silent.Stop();
        if (connected)
        {
            (await accepted).Dispose();
        }

        return (ex ?? throw new AssertionException("no exception"), connected);
    }

    private static async Task<RpcException> CallAsync(GrpcChannel channel) =>
        await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(30)))
        ?? throw new AssertionException("no exception");
}
