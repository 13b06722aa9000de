// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Net;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Exchange;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Rest;

namespace ExchangeBus.Node.Backends;

/// <summary>What the provider node tells its backend about a call, besides the bytes.</summary>
public sealed record BackendCall(
    string MessageId,
    string Client,
    string Service,
    string UserId,
    string SubjectId,
    string Issue,
    ReadOnlyMemory<byte> Payload,
    IReadOnlyDictionary<string, string> Metadata,
    string? GrpcMethod = null);

/// <summary>
/// What the backend answered; <paramref name="GrpcStatus"/> is set for a transparent gRPC call
/// (<see cref="BackendCall.GrpcMethod"/>): the backend's own status and trailers, OK or not.
/// </summary>
public sealed record BackendReply(byte[] Payload, IReadOnlyDictionary<string, string> Metadata, GrpcStatus? GrpcStatus = null);

/// <summary>
/// Calls the agency's own service behind the provider node: a gRPC method (the payload bytes
/// are the request message, passed through untouched), an HTTP endpoint (POST) or a REST API
/// (<see cref="RestBackend"/>: the caller's method, path, query and headers). The call's
/// identity travels in headers. Failures become the provider's stable codes; the backend's own
/// error text stays on this side.
/// </summary>
public sealed class BackendInvoker : IDisposable
{
    public const int MaxReplyBytes = 4 * 1024 * 1024;
    private readonly ConcurrentDictionary<string, GrpcChannel> _grpc = new(StringComparer.Ordinal);

    // One Method per backend path (and kind), kept: Grpc.Net.Client caches what it derives from a
    // method per Method instance, so a new one per call grew that cache by every call for good (a
    // gcdump of a provider node under `xbus bench exchange` showed it).
    private readonly ConcurrentDictionary<string, Method<byte[], byte[]>> _methods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Method<byte[], byte[]>> _duplexMethods = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        MaxResponseContentBufferSize = MaxReplyBytes,
    };
    private readonly RestBackend _rest = new();

    public async Task<BackendReply> InvokeAsync(ServiceSettings service, BackendCall call, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(call);

        // An r1 request (signed with its method) reaches only a REST backend: an http or gRPC
        // backend would be sent something its caller never meant (the path and method dropped).
        if (call.Metadata.ContainsKey(RestMetadata.Method) && service.Backend.Kind != BackendKind.Rest)
        {
            throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, $"{call.Service} is not a REST service: call it through LocalGateway or with its gRPC stub.");
        }

        if (service.Backend.Kind != BackendKind.Grpc && call.Payload.Length > service.BodyLimit)
        {
            throw new NodeException(StatusCode.ResourceExhausted, NodeErrors.PayloadTooLarge,
                $"The body is {call.Payload.Length} bytes; {call.Service} takes at most {service.BodyLimit}.");
        }

        return service.Backend.Kind switch
        {
            BackendKind.Grpc => await InvokeGrpcAsync(service.Backend, call, deadline, cancellationToken).ConfigureAwait(false),
            // One envelope carries a Deliver call's reply, however far maxBodyBytes lets a streamed one go.
            BackendKind.Rest => await _rest.InvokeAsync(service.Backend.Address, call, deadline, Math.Min(service.BodyLimit, NodeLimits.MaxPayloadBytes), cancellationToken).ConfigureAwait(false),
            _ => await InvokeHttpAsync(service.Backend, call, deadline, service.BodyLimit, cancellationToken).ConfigureAwait(false),
        };
    }

    private async Task<BackendReply> InvokeGrpcAsync(BackendSettings backend, BackendCall call, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var path = call.GrpcMethod ?? backend.Method
            ?? throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, "This service is served to typed gRPC stubs only.");
        var method = _methods.GetOrAdd(path, static path => BytesGrpcMethods.Method(MethodType.Unary, path));
        using var grpcCall = Channel(backend).CreateCallInvoker().AsyncUnaryCall(method, host: null, Options(call, deadline, cancellationToken), call.Payload.ToArray());
        try
        {
            var reply = await grpcCall.ResponseAsync.ConfigureAwait(false);
            if (call.GrpcMethod is null)
            {
                return new BackendReply(reply, new Dictionary<string, string>());
            }

            // A typed caller gets the backend's response headers too, signed with the answer.
            return new BackendReply(reply, await SignedHeadersAsync(grpcCall.ResponseHeadersAsync).ConfigureAwait(false), GrpcStatuses.From(grpcCall.GetStatus(), grpcCall.GetTrailers()));
        }
        catch (RpcException ex) when (call.GrpcMethod is not null && IsBackendsOwnStatus(ex))
        {
            // A typed caller gets the backend's error as the backend said it (signed, like an
            // answer), with the headers it sent before failing.
            return new BackendReply([], await SignedHeadersAsync(grpcCall.ResponseHeadersAsync).ConfigureAwait(false), GrpcStatuses.From(ex.Status, ex.Trailers));
        }
        catch (RpcException ex)
        {
            throw Failure(ex, cancellationToken);
        }
    }

    /// <summary>
    /// A streamed r1 call (Exchange.Stream) to a REST backend: <paramref name="body"/> is sent as
    /// it is produced; returns with the backend's head, its body unread (<see cref="RestBackend.OpenAsync"/>).
    /// <paramref name="cancellationToken"/> carries the caller's timeout (ServiceTimeout when it fires and the caller's call is still on).
    /// </summary>
    public Task<(HttpRequestMessage Request, HttpResponseMessage Response)> OpenRestAsync(
        ServiceSettings service, BackendCall call, HttpContent? body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        return _rest.OpenAsync(service.Backend.Address, call, body, cancellationToken);
    }

    /// <summary>
    /// A streamed typed call (Exchange.Stream): a duplex call of the caller's method path, which
    /// on the wire is every call kind, so node.json need not say which kind a method is. The
    /// caller writes, reads and ends it; <see cref="StreamStatus"/> reads how it ended.
    /// </summary>
    public AsyncDuplexStreamingCall<byte[], byte[]> OpenGrpcStream(ServiceSettings service, BackendCall call, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(call);
        var method = _duplexMethods.GetOrAdd(call.GrpcMethod!, static path => BytesGrpcMethods.Method(MethodType.DuplexStreaming, path));
        return Channel(service.Backend).CreateCallInvoker().AsyncDuplexStreamingCall(method, host: null, Options(call, deadline, cancellationToken));
    }

    /// <summary>
    /// A backend call's response headers, filtered and ready to sign. They come before its first
    /// message or with its end, never later, so awaiting them holds nothing back. A trailers-only
    /// answer (an end with no message) has no headers of its own: what the library shows as its
    /// headers are the status and trailers, which cross with the status.
    /// </summary>
    public static async Task<Dictionary<string, string>> SignedHeadersAsync(Task<Metadata> responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        var headers = await responseHeaders.ConfigureAwait(false);
        var signed = new Dictionary<string, string>(StringComparer.Ordinal);
        if (headers.Get("grpc-status") is null)
        {
            GrpcMetadata.ToSigned(headers, signed);
        }

        return signed;
    }

    /// <summary>
    /// How a backend's stream ended, from what its response reader threw (or null when it ended
    /// normally): the backend's own status, OK or not, or a bus failure for a call it never answered.
    /// </summary>
    public static GrpcStatus StreamStatus(AsyncDuplexStreamingCall<byte[], byte[]> call, RpcException? ended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (ended is null)
        {
            return GrpcStatuses.From(call.GetStatus(), call.GetTrailers());
        }

        return IsBackendsOwnStatus(ended) ? GrpcStatuses.From(ended.Status, ended.Trailers) : throw Failure(ended, cancellationToken);
    }

    private GrpcChannel Channel(BackendSettings backend) =>
        _grpc.GetOrAdd(backend.Address, address => BusChannel.Create(new Uri(address), new BusChannelOptions { MaxReceiveMessageSize = MaxReplyBytes, MaxSendMessageSize = NodeLimits.MaxPayloadBytes }));

    private static CallOptions Options(BackendCall call, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var headers = new Metadata
        {
            { "x-xbus-message-id", call.MessageId },
            { "x-xbus-client", call.Client },
            { "x-xbus-service", call.Service },
        };
        AddOptional(headers, "x-xbus-user-id", call.UserId);
        AddOptional(headers, "x-xbus-subject-id", call.SubjectId);
        AddOptional(headers, "x-xbus-issue", call.Issue);

        // The caller's own headers (a typed call's), filtered again: the client node is not trusted to have.
        foreach (var entry in GrpcMetadata.FromSigned(call.Metadata))
        {
            headers.Add(entry);
        }

        return new CallOptions(headers, deadline.UtcDateTime, cancellationToken);
    }

    private static Exception Failure(RpcException ex, CancellationToken cancellationToken) => ex.StatusCode switch
    {
        StatusCode.DeadlineExceeded => new NodeException(StatusCode.DeadlineExceeded, NodeErrors.ServiceTimeout, "The service did not answer in time."),
        StatusCode.Unavailable => new NodeException(StatusCode.Unavailable, NodeErrors.ServiceUnavailable, "The service is unreachable."),
        // Grpc.Net.Client also says CANCELLED for a backend that answers something that is
        // not gRPC (an HTML page, no status): that is the service failing, not our caller leaving.
        StatusCode.Cancelled when cancellationToken.IsCancellationRequested => new OperationCanceledException(cancellationToken),
        _ => new NodeException(StatusCode.Unknown, NodeErrors.ServiceFailed, $"The service failed ({ex.StatusCode})."),
    };

    /// <summary>
    /// A status the backend sent, as opposed to one the client library made up for a call that
    /// got no answer (no connection: a debug exception; not gRPC: CANCELLED) or ran out of time.
    /// </summary>
    private static bool IsBackendsOwnStatus(RpcException ex) =>
        ex.Status.DebugException is null && ex.StatusCode is not (StatusCode.Cancelled or StatusCode.DeadlineExceeded);

    private async Task<BackendReply> InvokeHttpAsync(BackendSettings backend, BackendCall call, DateTimeOffset deadline, int maxReplyBytes, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, backend.Address) { Content = new ReadOnlyMemoryContent(call.Payload) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", call.Metadata.GetValueOrDefault("content-type", "application/octet-stream"));
        request.Headers.TryAddWithoutValidation("X-Road-Id", call.MessageId);
        request.Headers.TryAddWithoutValidation("X-Road-Client", call.Client);
        request.Headers.TryAddWithoutValidation("X-Road-Service", call.Service);
        AddOptional(request, "X-Road-UserId", call.UserId);
        AddOptional(request, "X-Road-Issue", call.Issue);
        AddOptional(request, "X-Xbus-Subject-Id", call.SubjectId);
        return await HttpBackendCalls.SendAsync(_http, request, maxReplyBytes, deadline, (response, body) =>
        {
            if ((int)response.StatusCode is < 200 or > 299)
            {
                throw new NodeException(StatusCode.Unknown, NodeErrors.ServiceFailed, $"The service answered HTTP {(int)response.StatusCode}.");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (response.Content.Headers.ContentType is { } contentType)
            {
                metadata["content-type"] = contentType.ToString();
            }

            return new BackendReply(body, metadata);
        }, cancellationToken).ConfigureAwait(false);
    }

    // An ASCII metadata value is printable ASCII (gRPC over HTTP/2); a name in another script goes
    // to HTTP backends (URL-encoded) but not into gRPC metadata.
    private static void AddOptional(Metadata headers, string key, string value)
    {
        if (!string.IsNullOrEmpty(value) && GrpcMetadata.IsPrintableAscii(value))
        {
            headers.Add(key, value);
        }
    }

    private static void AddOptional(HttpRequestMessage request, string name, string value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            request.Headers.TryAddWithoutValidation(name, WebUtility.UrlEncode(value));
        }
    }

    public void Dispose()
    {
        foreach (var channel in _grpc.Values)
        {
            channel.Dispose();
        }

        _http.Dispose();
        _rest.Dispose();
    }
}
