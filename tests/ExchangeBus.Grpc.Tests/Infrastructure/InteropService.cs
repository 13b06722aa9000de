// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>
/// The C# side of proto/testing/interop.proto; behaves as tests/interop-node/server.js does. One
/// instance per server (a DI singleton), so a test can see what its handlers saw.
/// </summary>
internal sealed class InteropService : Interop.InteropBase
{
    /// <summary>The HTTP/2 path of the unary method, as a raw peer writes it.</summary>
    public static readonly string UnaryPath = $"/{Interop.Descriptor.FullName}/{nameof(Unary)}";

    public static readonly string ClientStreamPath = $"/{Interop.Descriptor.FullName}/{nameof(ClientStream)}";

    /// <summary>Completes when a handler began waiting out a request's delay_ms.</summary>
    public TaskCompletionSource DelayStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a handler saw its call's cancellation token fire.</summary>
    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HashSet<string> ConnectionIds { get; } = [];

    public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        lock (ConnectionIds)
        {
            ConnectionIds.Add(context.HttpContext.Connection.Id);
        }

        await BehaveAsync(request, context);
        return Reply(request, context, 0);
    }

    public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        await BehaveAsync(request, context);
        for (var i = 0; i < request.Repeat; i++)
        {
            await responseStream.WriteAsync(Reply(request, context, i), context.CancellationToken);
        }
    }

    public override async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        var texts = new List<string>();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await BehaveAsync(request, context);
            texts.Add(request.Text);
        }

        return new EchoReply { Text = string.Join(',', texts), Index = texts.Count };
    }

    public override async Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var index = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await BehaveAsync(request, context);
            await responseStream.WriteAsync(Reply(request, context, index++), context.CancellationToken);
        }
    }

    private async Task BehaveAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.DelayMs > 0)
        {
            DelayStarted.TrySetResult();
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
