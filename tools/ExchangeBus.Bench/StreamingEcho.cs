// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using Grpc.Core;

namespace ExchangeBus.Bench;

/// <summary>One streaming call kind of the benchmark: its method and how many payload messages one call carries (both ways).</summary>
internal sealed record StreamingKind(string Name, Method<byte[], byte[]> Method, int MessagesPerCall);

/// <summary>
/// The streaming call kinds of <c>xbus bench exchange</c>: the backend's bench.Backend gains
/// ServerStream (one request, N echoes), ClientStream (N requests, the last echoed once) and
/// Bidi (N requests, each echoed before the next is sent), and each baseline forwarder passes
/// them on as it passes Echo. Each is served as a duplex call (the wire is the same for every
/// kind); the callers, and the nodes from the provider's descriptor set, use the real kinds.
/// </summary>
internal static class StreamingEcho
{
    public static readonly Method<byte[], byte[]> ServerStream = BytesGrpcMethods.Method(MethodType.ServerStreaming, "/bench.Backend/ServerStream");
    public static readonly Method<byte[], byte[]> ClientStream = BytesGrpcMethods.Method(MethodType.ClientStreaming, "/bench.Backend/ClientStream");
    public static readonly Method<byte[], byte[]> Bidi = BytesGrpcMethods.Method(MethodType.DuplexStreaming, "/bench.Backend/Bidi");

    /// <summary>The kinds, with <paramref name="messages"/> messages on the streamed side(s) of each call.</summary>
    public static IReadOnlyList<StreamingKind> Kinds(int messages) =>
    [
        new("server streaming", ServerStream, 1 + messages),
        new("client streaming", ClientStream, messages + 1),
        new("bidirectional", Bidi, 2 * messages),
    ];

    /// <summary>The backend's streaming methods: <paramref name="messages"/> answers to a server-streaming request.</summary>
    public static void MapBackend(BytesGrpcMethods methods, int messages) => methods
        .AddDuplexStreaming(Duplex(ServerStream), async (requests, responses, context) =>
        {
            if (!await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                return;
            }

            for (var i = 0; i < messages; i++)
            {
                await responses.WriteAsync(requests.Current, context.CancellationToken).ConfigureAwait(false);
            }
        })
        .AddDuplexStreaming(Duplex(ClientStream), async (requests, responses, context) =>
        {
            byte[]? last = null;
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                last = request;
            }

            await responses.WriteAsync(last ?? [], context.CancellationToken).ConfigureAwait(false);
        })
        .AddDuplexStreaming(Duplex(Bidi), async (requests, responses, context) =>
        {
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                await responses.WriteAsync(request, context.CancellationToken).ConfigureAwait(false);
            }
        });

    /// <summary>A forwarder's pass-through of every streaming method to <paramref name="next"/>: messages both ways as they come.</summary>
    public static void MapForwarder(BytesGrpcMethods methods, CallInvoker next)
    {
        foreach (var method in new[] { ServerStream, ClientStream, Bidi })
        {
            var duplex = Duplex(method);
            methods.AddDuplexStreaming(duplex, async (requests, responses, context) =>
            {
                using var call = next.AsyncDuplexStreamingCall(duplex, host: null, new CallOptions(deadline: context.Deadline, cancellationToken: context.CancellationToken));
                var sending = Task.Run(async () =>
                {
                    await foreach (var request in requests.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
                    {
                        await call.RequestStream.WriteAsync(request, context.CancellationToken).ConfigureAwait(false);
                    }

                    await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                }, context.CancellationToken);
                await foreach (var response in call.ResponseStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
                {
                    await responses.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
                }

                await sending.ConfigureAwait(false);
            });
        }
    }

    /// <summary>One call of <paramref name="kind"/> with <paramref name="payload"/>: true when every answer is the payload, as many as the kind sends.</summary>
    public static async Task<bool> CallAsync(CallInvoker invoker, StreamingKind kind, Metadata? headers, byte[] payload, int messages, CancellationToken token)
    {
        var options = new CallOptions(headers, cancellationToken: token);
        switch (kind.Method.Type)
        {
            case MethodType.ServerStreaming:
            {
                using var call = invoker.AsyncServerStreamingCall(kind.Method, host: null, options, payload);
                var answers = 0;
                await foreach (var answer in call.ResponseStream.ReadAllAsync(token).ConfigureAwait(false))
                {
                    answers += answer.AsSpan().SequenceEqual(payload) ? 1 : messages + 1;
                }

                return answers == messages;
            }

            case MethodType.ClientStreaming:
            {
                using var call = invoker.AsyncClientStreamingCall(kind.Method, host: null, options);
                for (var i = 0; i < messages; i++)
                {
                    await call.RequestStream.WriteAsync(payload, token).ConfigureAwait(false);
                }

                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                return (await call.ResponseAsync.ConfigureAwait(false)).AsSpan().SequenceEqual(payload);
            }

            default:
            {
                using var call = invoker.AsyncDuplexStreamingCall(kind.Method, host: null, options);
                for (var i = 0; i < messages; i++)
                {
                    await call.RequestStream.WriteAsync(payload, token).ConfigureAwait(false);
                    if (!await call.ResponseStream.MoveNext(token).ConfigureAwait(false) || !call.ResponseStream.Current.AsSpan().SequenceEqual(payload))
                    {
                        return false;
                    }
                }

                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                return !await call.ResponseStream.MoveNext(token).ConfigureAwait(false);
            }
        }
    }

    private static Method<byte[], byte[]> Duplex(Method<byte[], byte[]> method) => BytesGrpcMethods.Method(MethodType.DuplexStreaming, method.FullName);
}
