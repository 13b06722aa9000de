// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.Json;
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace ExchangeBus.Grpc.Tests;

/// <summary>Our server against the independent @grpc/grpc-js client, over mutual TLS.</summary>
[NonParallelizable]
public sealed class GrpcJsClientInteropTests
{
    private string _dir = null!;
    private CertificateFiles _files = null!;
    private GrpcTestServer _server = null!;
    private int _port;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        NodeInterop.RequireInstalled();
        _dir = Directory.CreateTempSubdirectory("xbus-interop-").FullName;
        _files = CertificateFiles.Write(_dir);
        _server = await GrpcTestServer.StartMutualTlsAsync();
        _port = _server.Address.Port;
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<JsonElement> Run(string scenario) => NodeInterop.RunClientAsync(scenario, _port, _files);

    [Test]
    public async Task Unary()
    {
        var result = await Run("unary");
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        Assert.That(result.GetProperty("text").GetString(), Is.EqualTo("hello"));
        Assert.That(result.GetProperty("echoedMetadata").GetString(), Is.EqualTo("abc"));
        Assert.That(result.GetProperty("payloadHex").GetString(), Is.EqualTo("00017f80feff"));
    }

    [Test]
    public async Task ServerStreaming()
    {
        var result = await Run("server-stream");
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        Assert.That(result.GetProperty("indexes").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public async Task ClientStreaming()
    {
        var result = await Run("client-stream");
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        Assert.That(result.GetProperty("text").GetString(), Is.EqualTo("a,b,c"));
        Assert.That(result.GetProperty("index").GetInt32(), Is.EqualTo(3));
    }

    [Test]
    public async Task Duplex()
    {
        var result = await Run("duplex");
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        Assert.That(result.GetProperty("texts").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "ping-0", "ping-1", "ping-2" }));
    }

    [Test]
    public async Task ErrorWithStatusDetails()
    {
        var result = await Run("error");
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo(7), result.ToString());
        Assert.That(result.GetProperty("message").GetString(), Is.EqualTo("requested failure"));
        Assert.That(result.GetProperty("statusDetailsDecoded").GetBoolean(), Is.True);
        Assert.That(result.GetProperty("statusDetailsConsistent").GetBoolean(), Is.True, "google.rpc.Status code and message match the call's");
        Assert.That(result.GetProperty("errorInfoReason").GetString(), Is.EqualTo("Test.RequestedFailure"));
        Assert.That(result.GetProperty("errorInfoDomain").GetString(), Is.EqualTo("exchangebus"));
    }

    [Test]
    public async Task DeadlineExpiry()
    {
        var result = await Run("deadline");
        // The handler's own cancellation is checked in TransportTests on a warm connection; here
        // the 200 ms deadline also covers node's TLS handshake, so the handler may never start.
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo(4), result.ToString());
    }

    [Test]
    public async Task OversizedRequest()
    {
        var result = await Run("oversized");
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo(8), result.ToString());
    }

    [Test]
    public async Task OversizedReply()
    {
        var result = await Run("oversized-reply");
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo(8), result.ToString());
    }
}

/// <summary>Our client against the independent @grpc/grpc-js server, over mutual TLS.</summary>
[NonParallelizable]
public sealed class GrpcJsServerInteropTests
{
    private string _dir = null!;
    private Process _node = null!;
    private int _port;
    private GrpcChannel _channel = null!;
    private Interop.InteropClient _client = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        NodeInterop.RequireInstalled();
        _dir = Directory.CreateTempSubdirectory("xbus-interop-").FullName;
        var files = CertificateFiles.Write(_dir);
        (_node, _port) = await NodeInterop.StartServerAsync(files);
        _channel = CreateChannel(_port, BusChannelOptions.DefaultMaxMessageSize);
        _client = new Interop.InteropClient(_channel);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _channel.Dispose();
        _node.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _node.Kill(entireProcessTree: true);
        }

        _node.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static GrpcChannel CreateChannel(int port, int maxSend) => BusChannel.Create(
        new Uri($"https://127.0.0.1:{port}"),
        new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([TestCertificates.Instance.Root], TimeProvider.System),
            ClientCertificate = TestCertificates.Instance.Client,
            MaxSendMessageSize = maxSend,
        });

    [Test]
    public async Task Unary()
    {
        var reply = await _client.UnaryAsync(
            new EchoRequest { Text = "xin chào", Payload = ByteString.CopyFrom(9, 8, 7) },
            new Metadata { { "x-test-echo", "abc" } });
        Assert.That(reply.Text, Is.EqualTo("xin chào"));
        Assert.That(reply.Payload.ToByteArray(), Is.EqualTo(new byte[] { 9, 8, 7 }));
        Assert.That(reply.EchoedMetadata, Is.EqualTo("abc"));
    }

    [Test]
    public async Task ServerStreaming()
    {
        using var call = _client.ServerStream(new EchoRequest { Text = "s", Repeat = 5 });
        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            indexes.Add(reply.Index);
        }

        Assert.That(indexes, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public async Task ClientStreaming()
    {
        using var call = _client.ClientStream();
        foreach (var text in new[] { "a", "b", "c" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = text });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call.ResponseAsync;
        Assert.That(reply.Text, Is.EqualTo("a,b,c"));
        Assert.That(reply.Index, Is.EqualTo(3));
    }

    [Test]
    public async Task Duplex()
    {
        using var call = _client.Duplex();
        for (var i = 0; i < 3; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"ping-{i}" });
            Assert.That(await call.ResponseStream.MoveNext(), Is.True);
            Assert.That(call.ResponseStream.Current.Text, Is.EqualTo($"ping-{i}"));
        }

        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(), Is.False);
    }

    [Test]
    public async Task ErrorWithStatusDetails()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _client.UnaryAsync(new EchoRequest { FailWithCode = 7 }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Status.Detail, Is.EqualTo("requested failure"));
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
        Assert.That(RichStatus.FindErrorInfo(RichStatus.Details(ex))?.Domain, Is.EqualTo("exchangebus"));
    }

    [Test]
    public async Task DeadlineExpiry()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _client.UnaryAsync(
            new EchoRequest { DelayMs = 5000 }, deadline: DateTime.UtcNow.AddMilliseconds(200)));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
    }

    [Test]
    public async Task OversizedRequest()
    {
        using var channel = CreateChannel(_port, 16 << 20);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 << 20]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task OversizedReply()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _client.UnaryAsync(
            new EchoRequest { ReplySize = 5 << 20 }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }
}
