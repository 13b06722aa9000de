// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace ExchangeBus.Grpc.Tests;

/// <summary>Our client against our server, over real sockets and mutual TLS.</summary>
public sealed class TransportTests
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(30);

    private GrpcTestServer _server = null!;
    private GrpcChannel _channel = null!;
    private Interop.InteropClient _client = null!;

    [SetUp]
    public async Task SetUp()
    {
        _server = await GrpcTestServer.StartMutualTlsAsync();
        _channel = _server.CreateChannel();
        _client = new Interop.InteropClient(_channel);
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
        var reply = await _client.UnaryAsync(
            new EchoRequest { Text = "xin chào", Payload = ByteString.CopyFrom(1, 2, 3) },
            new Metadata { { "x-test-echo", "abc" } });

        Assert.That(reply.Text, Is.EqualTo("xin chào"));
        Assert.That(reply.Payload.ToByteArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(reply.EchoedMetadata, Is.EqualTo("abc"));
    }

    [Test]
    public async Task ServerStreaming_RepeatFive_ReceivesFiveInOrder()
    {
        using var call = _client.ServerStream(new EchoRequest { Text = "s", Repeat = 5 });
        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            indexes.Add(reply.Index);
        }

        Assert.That(indexes, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        Assert.That(call.GetStatus().StatusCode, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task ClientStreaming_ThreeMessages_ServerSeesAllInOrder()
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
    public async Task ClientStreaming_LargeThenSmallerMessages_EachArrivesWhole()
    {
        // A smaller message after a larger one must not carry the larger one's bytes (buffers are
        // pooled on both sides).
        var texts = new[] { new string('a', 1024 * 1024), "b", new string('c', 300 * 1024), new string('d', 1024 * 1024 + 7), "e" };
        using var call = _client.ClientStream();
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
    public async Task ClientStreaming_ServerRefusesAfterTheFirstMessage_TheResponseCarriesTheServersStatus()
    {
        // The server answers (trailers-only) while the client is still writing, and HTTP/2 stops
        // the request body. A write that meets the reset stream fails as CANCELLED (Grpc.Net.Client
        // does not wait for the trailers there); the server's status and code are the response's,
        // which is where a sender looks after a failed write (DeliveryWorker.PushFromAsync).
        using var call = _client.ClientStream();
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "first", FailWithCode = (int)StatusCode.FailedPrecondition });
        try
        {
            for (var i = 0; i < 1_000; i++)
            {
                await call.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[64 * 1024]) });
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException write)
        {
            Assert.That(write.StatusCode, Is.AnyOf(StatusCode.Cancelled, StatusCode.FailedPrecondition), write.ToString());
        }

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync);
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), ex.ToString());
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
    }

    [Test]
    public async Task ClientStreaming_ServerRefusesAfterTheFirstMessage_WriteOrAnswerThrowsTheServersStatus()
    {
        // What senders use (ClientStreamingCalls): the failing write reports the server's answer,
        // whether the write met the reset stream or was still waiting for flow-control credit.
        using var call = _client.ClientStream();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.WriteOrAnswerAsync(new EchoRequest { Text = "first", FailWithCode = (int)StatusCode.FailedPrecondition });
            for (var i = 0; i < 1_000; i++)
            {
                await call.WriteOrAnswerAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[64 * 1024]) });
            }

            await call.CompleteOrAnswerAsync();
        });

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), ex.ToString());
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
    }

    [Test]
    public async Task Duplex_EachMessageAnsweredBeforeTheNextIsSent()
    {
        using var call = _client.Duplex();
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
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _client.UnaryAsync(new EchoRequest { FailWithCode = (int)StatusCode.PermissionDenied }));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Status.Detail, Is.EqualTo("requested failure"));
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
        Assert.That(ex.CorrelationId, Is.EqualTo("corr-123"));
    }

    [Test]
    public async Task ServerStreaming_ErrorBeforeAnyMessage_ClientGetsTheStatus()
    {
        using var call = _client.ServerStream(new EchoRequest { Repeat = 0, FailWithCode = (int)StatusCode.Aborted });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Aborted));
        Assert.That(ex.ErrorCode, Is.EqualTo("Test.RequestedFailure"));
    }

    [Test]
    public async Task Unary_DeadlinePasses_DeadlineExceededAndServerHandlerCancelled()
    {
        // Connect first, and leave the call seconds: the handler must have started for its
        // cancellation to be seen, and on a loaded machine a handshake could use up a short deadline.
        await _client.UnaryAsync(new EchoRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _client.UnaryAsync(
            new EchoRequest { DelayMs = 600_000 }, deadline: DateTime.UtcNow.AddSeconds(3)));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        await _server.Service.HandlerCancelled.Task.WaitAsync(GiveUp);
    }

    [Test]
    public async Task Unary_DeadlineAlreadyPast_FailsWithoutSending()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _client.UnaryAsync(
            new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(-1)));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(_server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task Unary_ClientCancels_CancelledAndServerHandlerCancelled()
    {
        using var cts = new CancellationTokenSource();
        using var call = _client.UnaryAsync(new EchoRequest { DelayMs = 600_000 }, cancellationToken: cts.Token);
        await _server.Service.DelayStarted.Task.WaitAsync(GiveUp);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call);
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        await _server.Service.HandlerCancelled.Task.WaitAsync(GiveUp);
    }

    [Test]
    public async Task Unary_RequestOverServerLimit_ResourceExhausted()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync(o => o.MaxReceiveMessageSize = 1024);
        using var channel = server.CreateChannel();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task Unary_ReplyOverServerSendLimit_ResourceExhausted()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync(o => o.MaxSendMessageSize = 1024);
        using var channel = server.CreateChannel();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest { ReplySize = 2048 }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Unary_DefaultLimitFiveMegabyteRequest_ResourceExhausted()
    {
        using var channel = _server.CreateChannel(maxSend: 16 << 20);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 << 20]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Unary_ReplyOverClientLimit_ResourceExhausted()
    {
        using var channel = _server.CreateChannel(maxReceive: 1024);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest { ReplySize = 4096 }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Unary_RequestOverClientSendLimit_ResourceExhaustedLocally()
    {
        using var channel = _server.CreateChannel(maxSend: 100);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new Interop.InteropClient(channel).UnaryAsync(
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(_server.Service.ConnectionIds, Is.Empty);
    }

    [Test]
    public async Task Unary_UnknownMethod_Unimplemented()
    {
        var unknown = new Method<EchoRequest, EchoReply>(
            MethodType.Unary, Interop.Descriptor.FullName, "NoSuchMethod",
            Marshallers.Create(m => m.ToByteArray(), EchoRequest.Parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), EchoReply.Parser.ParseFrom));
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, new CallOptions(), new EchoRequest()));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
    }

    [Test]
    public async Task Unary_ManyCalls_ReuseOneConnection()
    {
        for (var i = 0; i < 20; i++)
        {
            await _client.UnaryAsync(new EchoRequest { Text = "x" });
        }

        Assert.That(_server.Service.ConnectionIds, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Health_Check_ServingThenNotServingWhenTheHealthCheckFails()
    {
        var health = new Health.HealthClient(_channel);
        var first = await health.CheckAsync(new HealthCheckRequest());
        Assert.That(first.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));

        _server.Health.Healthy = false;
        var overall = await health.CheckAsync(new HealthCheckRequest());
        var service = await health.CheckAsync(new HealthCheckRequest { Service = GrpcTestServer.HealthServiceName });

        Assert.That(overall.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
        Assert.That(service.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
    }

    [Test]
    public async Task Health_CheckUnknownService_NotFound()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Health.HealthClient(_channel).CheckAsync(new HealthCheckRequest { Service = "nope" }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public async Task Health_Watch_SendsCurrentThenEachChange()
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        using var call = new Health.HealthClient(_channel).Watch(
            new HealthCheckRequest { Service = GrpcTestServer.HealthServiceName }, cancellationToken: giveUp.Token);
        Assert.That(await call.ResponseStream.MoveNext(giveUp.Token), Is.True);
        Assert.That(call.ResponseStream.Current.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));

        // A change reaches a watcher when the health check publisher next runs; until then the
        // watch may repeat the old status. (Only the first answer is computed afresh: later ones
        // come from the publisher, which tells watchers only what differs from what it published
        // before, so each flip here waits to be seen before the next.)
        _server.Health.Healthy = false;
        Assert.That(await NextDifferentAsync(call, HealthCheckResponse.Types.ServingStatus.Serving, giveUp.Token), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
        _server.Health.Healthy = true;
        Assert.That(await NextDifferentAsync(call, HealthCheckResponse.Types.ServingStatus.NotServing, giveUp.Token), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task Reflection_On_ListsTheServicesTheServerMaps()
    {
        var services = await ListServicesAsync(_channel);

        Assert.That(services, Is.SupersetOf(new[] { Interop.Descriptor.FullName, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection" }));
    }

    [Test]
    public async Task Reflection_Off_Unimplemented()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync(reflection: false);
        using var channel = server.CreateChannel();

        // Only read: the server answers an unmapped method at once, before it reads a request, and
        // a request written meanwhile can fail on the client as Cancelled (the answer closed the
        // stream under the write) instead of carrying the server's status. Seen once in CI.
        using var giveUp = new CancellationTokenSource(GiveUp);
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(cancellationToken: giveUp.Token);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(giveUp.Token));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
        var reply = await new Interop.InteropClient(channel).UnaryAsync(new EchoRequest { Text = "still served" });
        Assert.That(reply.Text, Is.EqualTo("still served"));
    }

    private static async Task<HealthCheckResponse.Types.ServingStatus> NextDifferentAsync(
        AsyncServerStreamingCall<HealthCheckResponse> call, HealthCheckResponse.Types.ServingStatus old, CancellationToken cancellationToken)
    {
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            if (call.ResponseStream.Current.Status != old)
            {
                return call.ResponseStream.Current.Status;
            }
        }

        throw new AssertionException("the watch ended without a change");
    }

    private static async Task<List<string>> ListServicesAsync(GrpcChannel channel)
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(cancellationToken: giveUp.Token);
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty }, giveUp.Token);
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(giveUp.Token), Is.True);
        return [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];
    }
}
