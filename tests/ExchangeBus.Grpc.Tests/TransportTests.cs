// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Health;
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBus.Grpc.Tests;

/// <summary>Our client against our server, over real sockets and mutual TLS.</summary>
public sealed class TransportTests
{
    private GrpcTestServer _server = null!;
    private GrpcChannel _channel = null!;

    [SetUp]
    public async Task SetUp()
    {
        _server = await GrpcTestServer.StartMutualTlsAsync();
        _channel = _server.CreateChannel();
    }

    [TearDown]
    public async Task TearDown()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task Unary_RoundTrip_EchoesTextPayloadAndMetadata()
    {
        var reply = await _channel.UnaryAsync(
            InteropService.Unary,
            new EchoRequest { Text = "xin chào", Payload = ByteString.CopyFrom(1, 2, 3) },
            new CallOptions(Headers: new Metadata().Add("x-test-echo", "abc")));

        Assert.That(reply.Text, Is.EqualTo("xin chào"));
        Assert.That(reply.Payload.ToByteArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(reply.EchoedMetadata, Is.EqualTo("abc"));
    }

    [Test]
    public async Task ServerStreaming_RepeatFive_ReceivesFiveInOrder()
    {
        using var call = _channel.CallServerStreaming(InteropService.ServerStream, new EchoRequest { Text = "s", Repeat = 5 });
        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            indexes.Add(reply.Index);
        }

        Assert.That(indexes, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        Assert.That(call.GetStatus().Code, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task ClientStreaming_ThreeMessages_ServerSeesAllInOrder()
    {
        using var call = _channel.CallClientStreaming(InteropService.ClientStream);
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
    public async Task ClientStreaming_LargeThenSmallerMessages_EachArrivesWhole()
    {
        // Streamed messages are framed in pooled buffers, reused from one message to the next:
        // a smaller message after a larger one must not carry the larger one's bytes.
        var texts = new[] { new string('a', 1024 * 1024), "b", new string('c', 300 * 1024), new string('d', 1024 * 1024 + 7), "e" };
        using var call = _channel.CallClientStreaming(InteropService.ClientStream);
        foreach (var text in texts)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = text });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call.ResponseAsync;

        Assert.That(reply.Index, Is.EqualTo(texts.Length));
        Assert.That(reply.Text, Is.EqualTo(string.Join(',', texts)));
    }

    [Test]
    public async Task ClientStreaming_ServerRefusesAfterTheFirstMessage_TheCallerSeesTheServersStatusNotCancelled()
    {
        // The server answers (trailers-only) while the client is still writing: HTTP/2 stops the
        // request body, and whichever call fails first must carry the server's status and code.
        using var call = _channel.CallClientStreaming(InteropService.ClientStream);
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "first", FailWithCode = (int)StatusCode.FailedPrecondition });
        RpcException? failure = null;
        try
        {
            for (var i = 0; i < 1_000; i++)
            {
                await call.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[64 * 1024]) });
            }

            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        }
        catch (RpcException ex)
        {
            failure = ex;
        }

        Assert.That(failure, Is.Not.Null);
        Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), failure.Status.Detail);
        Assert.That(failure.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
    }

    [Test]
    public async Task Duplex_EachMessageAnsweredBeforeTheNextIsSent()
    {
        using var call = _channel.CallDuplexStreaming(InteropService.Duplex);
        for (var i = 0; i < 3; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"ping-{i}" });
            Assert.That(await call.ResponseStream.MoveNext(), Is.True);
            Assert.That(call.ResponseStream.Current.Text, Is.EqualTo($"ping-{i}"));
            Assert.That(call.ResponseStream.Current.Index, Is.EqualTo(i));
        }

        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(), Is.False);
    }

    [Test]
    public async Task Unary_HandlerFailsWithRichError_ClientGetsCodeErrorCodeAndCorrelationId()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync(InteropService.Unary, new EchoRequest { FailWithCode = (int)StatusCode.PermissionDenied }));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Status.Detail, Is.EqualTo("requested failure"));
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
        Assert.That(ex.Status.CorrelationId, Is.EqualTo("corr-123"));
    }

    [Test]
    public async Task ServerStreaming_ErrorAfterMessages_ClientGetsMessagesThenStatus()
    {
        using var call = _channel.CallServerStreaming(InteropService.ServerStream, new EchoRequest { Repeat = 0, FailWithCode = (int)StatusCode.Aborted });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Aborted));
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
    }

    [Test]
    public async Task Unary_DeadlinePasses_DeadlineExceededAndServerHandlerCancelled()
    {
        // Connect first: on a loaded machine the handshake alone could use up a short deadline,
        // and then the handler never runs to see its cancellation.
        await _channel.UnaryAsync(InteropService.Unary, new EchoRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(
            InteropService.Unary,
            new EchoRequest { DelayMs = 10_000 },
            new CallOptions(Deadline: DateTimeOffset.UtcNow.AddMilliseconds(200))));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        await _server.Service.HandlerCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Unary_DeadlineAlreadyPast_FailsWithoutSending()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(
            InteropService.Unary, new EchoRequest(), new CallOptions(Deadline: DateTimeOffset.UtcNow.AddSeconds(-1))));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(_server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task Unary_ClientCancels_CancelledAndServerHandlerCancelled()
    {
        await _channel.UnaryAsync(InteropService.Unary, new EchoRequest());
        using var cts = new CancellationTokenSource();
        var call = _channel.UnaryAsync(InteropService.Unary, new EchoRequest { DelayMs = 10_000 }, new CallOptions(CancellationToken: cts.Token));
        await Task.Delay(200);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        await _server.Service.HandlerCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Unary_RequestOverServerLimit_ResourceExhausted()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync(o => o.MaxReceiveMessageSize = 1024);
        using var channel = server.CreateChannel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Unary_DefaultLimitFiveMegabyteRequest_ResourceExhausted()
    {
        using var channel = _server.CreateChannel(maxSend: 16 << 20);
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 << 20]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Unary_ReplyOverClientLimit_ResourceExhausted()
    {
        using var channel = _server.CreateChannel(maxReceive: 1024);
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(InteropService.Unary, new EchoRequest { ReplySize = 4096 }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Unary_RequestOverClientSendLimit_ResourceExhaustedLocally()
    {
        using var channel = _server.CreateChannel(maxSend: 100);
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(
            InteropService.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(_server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task Unary_UnknownMethod_Unimplemented()
    {
        var unknown = new Method<EchoRequest, EchoReply>(
            MethodType.Unary, "exchangebus.testing.v1.Interop", "NoSuchMethod",
            Marshallers.ForProtobuf<EchoRequest>(), Marshallers.ForProtobuf<EchoReply>());
        var ex = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(unknown, new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
    }

    [Test]
    public async Task Unary_ManyCalls_ReuseOneConnection()
    {
        for (var i = 0; i < 20; i++)
        {
            await _channel.UnaryAsync(InteropService.Unary, new EchoRequest { Text = "x" });
        }

        Assert.That(_server.Service.ConnectionIds, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Health_Check_ServingThenNotServingAfterChange()
    {
        var first = await _channel.UnaryAsync(HealthService.CheckMethod, new HealthCheckRequest());
        Assert.That(first.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));

        _server.Services.GetRequiredService<HealthService>().SetStatus(string.Empty, HealthCheckResponse.Types.ServingStatus.NotServing);
        var second = await _channel.UnaryAsync(HealthService.CheckMethod, new HealthCheckRequest());
        Assert.That(second.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
    }

    [Test]
    public async Task Health_CheckUnknownService_NotFound()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(HealthService.CheckMethod, new HealthCheckRequest { Service = "nope" }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public async Task Health_Watch_SendsCurrentThenEachChange()
    {
        var health = _server.Services.GetRequiredService<HealthService>();
        health.SetStatus("registry", HealthCheckResponse.Types.ServingStatus.NotServing);
        using var call = _channel.CallServerStreaming(HealthService.WatchMethod, new HealthCheckRequest { Service = "registry" });

        Assert.That(await call.ResponseStream.MoveNext(), Is.True);
        Assert.That(call.ResponseStream.Current.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
        health.SetStatus("registry", HealthCheckResponse.Types.ServingStatus.Serving);
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);
        Assert.That(call.ResponseStream.Current.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }
}
