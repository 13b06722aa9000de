// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Testing.V1;
using Google.Protobuf;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>The C# side of proto/testing/interop.proto; behaves as tests/interop-node/server.js does.</summary>
internal sealed class InteropService
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Descriptor = InteropReflection.Descriptor.Services[0];

    public static readonly Method<EchoRequest, EchoReply> Unary = ProtoMethods.Create<EchoRequest, EchoReply>(Descriptor, "Unary");
    public static readonly Method<EchoRequest, EchoReply> ServerStream = ProtoMethods.Create<EchoRequest, EchoReply>(Descriptor, "ServerStream");
    public static readonly Method<EchoRequest, EchoReply> ClientStream = ProtoMethods.Create<EchoRequest, EchoReply>(Descriptor, "ClientStream");
    public static readonly Method<EchoRequest, EchoReply> Duplex = ProtoMethods.Create<EchoRequest, EchoReply>(Descriptor, "Duplex");

    /// <summary>Completes when a handler saw its call's cancellation token fire.</summary>
    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HashSet<string> ConnectionIds { get; } = [];

    public GrpcServiceDefinition Build() => GrpcServiceDefinition.CreateBuilder()
        .AddMethod(Unary, UnaryAsync)
        .AddMethod(ServerStream, ServerStreamAsync)
        .AddMethod(ClientStream, ClientStreamAsync)
        .AddMethod(Duplex, DuplexAsync)
        .Build();

    private async Task<EchoReply> UnaryAsync(EchoRequest request, ServerCallContext context)
    {
        lock (ConnectionIds)
        {
            ConnectionIds.Add(context.HttpContext.Connection.Id);
        }

        await BehaveAsync(request, context);
        return Reply(request, context, 0);
    }

    private async Task ServerStreamAsync(EchoRequest request, IServerStreamWriter<EchoReply> stream, ServerCallContext context)
    {
        await BehaveAsync(request, context);
        for (var i = 0; i < request.Repeat; i++)
        {
            await stream.WriteAsync(Reply(request, context, i), context.CancellationToken);
        }
    }

    private async Task<EchoReply> ClientStreamAsync(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context)
    {
        var texts = new List<string>();
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            await BehaveAsync(request, context);
            texts.Add(request.Text);
        }

        return new EchoReply { Text = string.Join(',', texts), Index = texts.Count };
    }

    private async Task DuplexAsync(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoReply> stream, ServerCallContext context)
    {
        var index = 0;
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            await BehaveAsync(request, context);
            await stream.WriteAsync(Reply(request, context, index++), context.CancellationToken);
        }
    }

    private async Task BehaveAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.DelayMs > 0)
        {
            try
            {
                await Task.Delay(request.DelayMs, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                HandlerCancelled.TrySetResult();
                throw;
            }
        }

        if (request.FailWithCode != 0)
        {
            throw RichStatus.Error((StatusCode)request.FailWithCode, "Test.RequestedFailure", "requested failure", "corr-123");
        }
    }

    private static EchoReply Reply(EchoRequest request, ServerCallContext context, int index) => new()
    {
        Text = request.Text,
        Payload = request.ReplySize > 0 ? ByteString.CopyFrom(new byte[request.ReplySize]) : request.Payload,
        Index = index,
        EchoedMetadata = context.RequestHeaders.GetValue("x-test-echo") ?? string.Empty,
    };
}
