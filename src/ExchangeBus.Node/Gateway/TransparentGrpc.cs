// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Exchange;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Node.Gateway;

/// <summary>
/// Transparent gRPC (docs/design/agency-protocols.md): an agency system calls a provider's method
/// with the stub generated from the provider's own .proto, on its local node, naming itself and
/// the bus service in request metadata. The call goes through the same exchange as
/// <c>LocalGateway.Call</c>; the backend's status and trailers come back as the backend sent them.
/// Every call kind is carried: a method a descriptor (registered, or the provider's description
/// of the service) says is unary by Exchange.Deliver, every other call by Exchange.Stream, message by message.
/// </summary>
public sealed class TransparentGrpc(ClientExchange exchange, GrpcMethodKinds kinds)
{
    /// <summary>The calling subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM (X-Road REST's <c>X-Road-Client</c>).</summary>
    public const string ClientHeader = "x-road-client";

    /// <summary>The provider's bus service, INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION].</summary>
    public const string ServiceHeader = "x-road-service";

    public const string UserIdHeader = "x-road-userid";
    public const string IssueHeader = "x-road-issue";
    public const string SubjectIdHeader = "x-xbus-subject-id";

    /// <summary>Response header: the exchange's message id.</summary>
    public const string MessageIdHeader = "x-road-id";

    /// <summary>Trailer on an error status the provider's backend sent (absent on the bus's own refusals).</summary>
    public const string ErrorSourceTrailer = "x-xbus-error-source";

    /// <summary>Method paths of the bus's own protocol, never forwarded.</summary>
    private const string ReservedPrefix = "/exchangebus.";

    /// <summary>
    /// Every path the local listener serves nothing else on. Grpc.AspNetCore routes a method by
    /// parsing its full name as a route pattern: constrained parameters make this rank below the
    /// node's own (literal) methods and above the runtime's catch-all for unknown services.
    /// Duplex, because on the wire every call kind is one; the caller's stub decides the kind.
    /// </summary>
    public static readonly Method<byte[], byte[]> AnyMethod = new(
        MethodType.DuplexStreaming, "{service:minlength(1)}", "{method:minlength(1)}", BytesGrpcMethods.Marshaller, BytesGrpcMethods.Marshaller);

    public async Task HandleAsync(IAsyncStreamReader<byte[]> requests, IServerStreamWriter<byte[]> responses, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(context);
        var path = context.GetHttpContext().Request.Path.Value!;
        if (path.StartsWith(ReservedPrefix, StringComparison.Ordinal))
        {
            // The bus's own services (the peer listener's exchange, say) stay unknown here, as the
            // runtime would answer them: the local listener serves only its own endpoints.
            throw new RpcException(new Status(StatusCode.Unimplemented, "Service is unimplemented."));
        }

        // Message 0 is forwarded as soon as it is here, before the caller's next one: a
        // bidirectional caller may wait for an answer before it sends more.
        var first = await FirstRequestAsync(requests, context).ConfigureAwait(false);
        var request = new CallRequest
        {
            Client = context.RequestHeaders.GetValue(ClientHeader) ?? string.Empty,
            Service = context.RequestHeaders.GetValue(ServiceHeader) ?? string.Empty,
            UserId = context.RequestHeaders.GetValue(UserIdHeader) ?? string.Empty,
            Issue = context.RequestHeaders.GetValue(IssueHeader) ?? string.Empty,
            SubjectId = context.RequestHeaders.GetValue(SubjectIdHeader) ?? string.Empty,
            Payload = UnsafeByteOperations.UnsafeWrap(first),
        };

        // The caller's own headers, for its provider's backend: signed with the request.
        GrpcMetadata.ToSigned(context.RequestHeaders, request.Metadata);
        var caller = LocalGateway.Caller(context);
        GrpcStatus status;
        if (await kinds.IsUnaryAsync(request.Client, request.Service, path, caller, context.ClientDeadline, context.CorrelationId, context.CancellationToken).ConfigureAwait(false))
        {
            await EnsureNoSecondRequestAsync(requests, context).ConfigureAwait(false);
            var answer = await exchange.CallGrpcAsync(request, path, caller, context.ClientDeadline, context.CorrelationId, context.CancellationToken).ConfigureAwait(false);
            await WriteResponseHeadersAsync(context, answer.Response.MessageId, answer.Response.Metadata).ConfigureAwait(false);
            status = answer.Status;
            if ((StatusCode)status.Code == StatusCode.OK)
            {
                await responses.WriteAsync(answer.Response.Payload.ToByteArray(), context.CancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            var answer = await exchange.StreamGrpcAsync(
                request, path, caller, requests, responses, headers => WriteResponseHeadersAsync(context, headers.MessageId, headers.Metadata),
                context.ClientDeadline, context.CorrelationId, context.CancellationToken).ConfigureAwait(false);
            status = answer.Status;
        }

        var trailers = GrpcStatuses.Trailers(status);
        if ((StatusCode)status.Code != StatusCode.OK)
        {
            trailers.Add(ErrorSourceTrailer, "provider");
            throw new RpcException(new Status((StatusCode)status.Code, status.Message), trailers);
        }

        foreach (var trailer in trailers)
        {
            context.ResponseTrailers.Add(trailer);
        }
    }

    /// <summary>
    /// The backend's response headers, as the provider signed them in <paramref name="signed"/> (in
    /// a unary call's response, or a stream's RESPONSE_HEADERS link), and the bus's message id, as
    /// X-Road REST answers it, so the caller can find the exchange in audits.
    /// </summary>
    private static Task WriteResponseHeadersAsync(ServerCallContext context, string messageId, IEnumerable<KeyValuePair<string, string>> signed)
    {
        var headers = GrpcMetadata.FromSigned(signed);
        headers.Add(MessageIdHeader, messageId);
        return context.WriteResponseHeadersAsync(headers);
    }

    private static async Task<byte[]> FirstRequestAsync(IAsyncStreamReader<byte[]> requests, ServerCallContext context)
    {
        if (!await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.BadRequest, "The call sent no request message.").ToRpc(context.CorrelationId);
        }

        return requests.Current;
    }

    private static async Task EnsureNoSecondRequestAsync(IAsyncStreamReader<byte[]> requests, ServerCallContext context)
    {
        if (await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.BadRequest, "The method is unary: one request message per call.").ToRpc(context.CorrelationId);
        }
    }
}
