// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Internal;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace ExchangeBus.Grpc;

internal interface IServerMethod
{
    string FullName { get; }

    MethodType Type { get; }

    Task HandleAsync(HttpContext httpContext, GrpcServerRuntime runtime);
}

/// <summary>Serves one method: reads the request frames, runs the handler, writes frames and status.</summary>
internal sealed class ServerMethod<TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    UnaryServerMethod<TRequest, TResponse>? unary = null,
    ClientStreamingServerMethod<TRequest, TResponse>? clientStreaming = null,
    ServerStreamingServerMethod<TRequest, TResponse>? serverStreaming = null,
    DuplexStreamingServerMethod<TRequest, TResponse>? duplex = null) : IServerMethod
{
    public string FullName => method.FullName;

    public MethodType Type => method.Type;

    public async Task HandleAsync(HttpContext httpContext, GrpcServerRuntime runtime)
    {
        if (!ServerCallProtocol.AcceptRequest(httpContext, runtime, out var timeout))
        {
            return;
        }

        var streamingRequest = method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming;
        if (streamingRequest)
        {
            // Per-message limits bound each message; a stream may be long-lived and idle, so
            // Kestrel's whole-body size and minimum data rate do not apply to it.
            var size = httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
            if (size is { IsReadOnly: false })
            {
                size.MaxRequestBodySize = null;
            }

            var rate = httpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>();
            if (rate is not null)
            {
                rate.MinDataRate = null;
            }
        }

        Metadata requestHeaders;
        try
        {
            requestHeaders = ServerCallProtocol.ReadMetadata(httpContext.Request.Headers);
        }
        catch (RpcException ex)
        {
            await ServerCallProtocol.WriteStatusAsync(httpContext, ex.Status, Metadata.Empty, Metadata.Empty).ConfigureAwait(false);
            return;
        }

        using var deadlineCts = timeout is { } t ? new CancellationTokenSource(t, runtime.TimeProvider) : null;
        using var callCts = CancellationTokenSource.CreateLinkedTokenSource(
            httpContext.RequestAborted, deadlineCts?.Token ?? CancellationToken.None);
        var call = new ServerCall<TRequest, TResponse>(httpContext, method, runtime, callCts.Token);
        var context = new ServerCallContext(
            httpContext,
            method.FullName,
            requestHeaders,
            timeout is { } d ? runtime.TimeProvider.GetUtcNow() + d : null,
            callCts.Token,
            call.WriteHeadersAsync);
        call.Context = context;

        Status status;
        try
        {
            status = await RunAsync(call, context).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            status = ex.Status;
            foreach (var entry in ex.Trailers)
            {
                context.ResponseTrailers.AddEntry(entry);
            }
        }
        catch (Exception ex) when (deadlineCts?.IsCancellationRequested == true
            && !httpContext.RequestAborted.IsCancellationRequested
            && ex is OperationCanceledException or IOException)
        {
            GrpcServerLog.DeadlineExceeded(runtime.Logger, method.FullName);
            status = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
        }
        catch (Exception ex) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client reset the stream or the connection dropped: nobody is left to answer.
            _ = ex;
            GrpcServerLog.ClientAbandoned(runtime.Logger, method.FullName);
            return;
        }
        catch (Exception ex)
        {
            // Exception text can hold anything; the peer gets a code and a correlation id only.
            var correlationId = httpContext.TraceIdentifier;
            GrpcServerLog.HandlerFailed(runtime.Logger, method.FullName, correlationId, ex);
            status = RichStatus.Error(StatusCode.Unknown, RichStatus.InternalErrorCode, "The service failed to handle the call.", correlationId).Status;
        }

        GrpcServerLog.CallEnded(runtime.Logger, method.FullName, status.Code);
        await ServerCallProtocol.WriteStatusAsync(httpContext, status, context.ResponseHeaders, context.ResponseTrailers).ConfigureAwait(false);
    }

    private async Task<Status> RunAsync(ServerCall<TRequest, TResponse> call, ServerCallContext context)
    {
        switch (method.Type)
        {
            case MethodType.Unary:
            {
                var request = await call.ReadSingleRequestAsync().ConfigureAwait(false);
                var response = await unary!(request, context).ConfigureAwait(false);
                await call.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
                break;
            }

            case MethodType.ServerStreaming:
            {
                var request = await call.ReadSingleRequestAsync().ConfigureAwait(false);
                await serverStreaming!(request, call, context).ConfigureAwait(false);
                break;
            }

            case MethodType.ClientStreaming:
            {
                var response = await clientStreaming!(call, context).ConfigureAwait(false);
                await call.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
                break;
            }

            default:
                // A bidirectional peer may wait for our headers before it writes.
                await call.WriteHeadersAsync().ConfigureAwait(false);
                await duplex!(call, call, context).ConfigureAwait(false);
                break;
        }

        return Status.Ok;
    }
}

/// <summary>The request reader and response writer of one call.</summary>
internal sealed class ServerCall<TRequest, TResponse>(
    HttpContext httpContext,
    Method<TRequest, TResponse> method,
    GrpcServerRuntime runtime,
    CancellationToken callToken) : IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>
{
    private int _writing;

    public ServerCallContext? Context { get; set; }

    public TRequest Current { get; private set; } = default!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(callToken, cancellationToken)
            : null;
        var (has, message) = await MessageReader.ReadAsync(
            httpContext.Request.BodyReader, method.RequestMarshaller, runtime.Options.MaxReceiveMessageSize, linked?.Token ?? callToken)
            .ConfigureAwait(false);
        if (has)
        {
            Current = message;
        }

        return has;
    }

    public async Task<TRequest> ReadSingleRequestAsync()
    {
        if (!await MoveNext().ConfigureAwait(false))
        {
            throw new RpcException(StatusCode.Internal, "Expected one request message, got none.");
        }

        var request = Current;
        if (await MoveNext().ConfigureAwait(false))
        {
            throw new RpcException(StatusCode.Internal, "Expected one request message, got more.");
        }

        return request;
    }

    public async Task WriteHeadersAsync()
    {
        if (httpContext.Response.HasStarted)
        {
            return;
        }

        ServerCallProtocol.ApplyResponseHeaders(httpContext, Context!.ResponseHeaders);
        await httpContext.Response.StartAsync(callToken).ConfigureAwait(false);
    }

    public async Task WriteAsync(TResponse message, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new InvalidOperationException("Only one write can be pending at a time.");
        }

        try
        {
            if (!httpContext.Response.HasStarted)
            {
                ServerCallProtocol.ApplyResponseHeaders(httpContext, Context!.ResponseHeaders);
            }

            var writer = httpContext.Response.BodyWriter;
            MessageReader.Write(writer, method.ResponseMarshaller, message, runtime.Options.MaxSendMessageSize);
            using var linked = cancellationToken.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(callToken, cancellationToken)
                : null;
            await writer.FlushAsync(linked?.Token ?? callToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }
}

/// <summary>What every server call does the same way, whatever its types.</summary>
internal static class ServerCallProtocol
{
    /// <summary>Checks the request is gRPC we can serve; answers it and returns false if not.</summary>
    public static bool AcceptRequest(HttpContext httpContext, GrpcServerRuntime runtime, out TimeSpan? timeout)
    {
        timeout = null;
        var request = httpContext.Request;
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            GrpcServerLog.NotGrpc(runtime.Logger, request.Protocol, request.ContentType);
            httpContext.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return false;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            GrpcServerLog.NotGrpc(runtime.Logger, request.Protocol, request.ContentType);
            httpContext.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            httpContext.Response.Headers.Upgrade = "h2";
            return false;
        }

        httpContext.Response.ContentType = GrpcProtocol.ContentType;
        httpContext.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;

        var encoding = request.Headers[GrpcProtocol.EncodingHeader].ToString();
        if (encoding.Length > 0 && !string.Equals(encoding, GrpcProtocol.IdentityEncoding, StringComparison.Ordinal))
        {
            SetTrailersOnly(httpContext, new Status(StatusCode.Unimplemented, $"Unsupported grpc-encoding '{Truncate(encoding)}'; only identity is accepted."));
            return false;
        }

        var timeoutHeader = request.Headers[GrpcProtocol.TimeoutHeader].ToString();
        if (timeoutHeader.Length > 0)
        {
            if (!GrpcProtocol.TryParseTimeout(timeoutHeader, out var parsed))
            {
                SetTrailersOnly(httpContext, new Status(StatusCode.Internal, "Malformed grpc-timeout header."));
                return false;
            }

            timeout = parsed;
        }

        return true;
    }

    public static Metadata ReadMetadata(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            var key = name.ToLowerInvariant();
            if (Metadata.IsReserved(key) || !Metadata.IsValidKey(key))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (value is null)
                {
                    continue;
                }

                if (key.EndsWith(Metadata.BinarySuffix, StringComparison.Ordinal))
                {
                    // One header may carry several comma-separated base64 values.
                    foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (!GrpcProtocol.TryDecodeBinaryHeader(part, out var bytes))
                        {
                            throw new RpcException(StatusCode.Internal, $"Metadata '{key}' is not valid base64.");
                        }

                        metadata.AddEntry(Metadata.Entry.Binary(key, bytes));
                    }
                }
                else if (Metadata.IsValidAsciiValue(value))
                {
                    metadata.AddEntry(Metadata.Entry.Ascii(key, value));
                }
            }
        }

        return metadata;
    }

    public static void ApplyResponseHeaders(HttpContext httpContext, Metadata headers)
    {
        foreach (var entry in headers)
        {
            httpContext.Response.Headers.Append(entry.Key, Encode(entry));
        }
    }

    public static async Task WriteStatusAsync(HttpContext httpContext, Status status, Metadata headers, Metadata trailers)
    {
        var response = httpContext.Response;
        if (!response.HasStarted)
        {
            // Trailers-only: an answer with no messages is one HEADERS frame ending the stream.
            ApplyResponseHeaders(httpContext, headers);
            SetTrailersOnly(httpContext, status);
            foreach (var entry in trailers)
            {
                response.Headers.Append(entry.Key, Encode(entry));
            }

            return;
        }

        foreach (var entry in trailers)
        {
            response.AppendTrailer(entry.Key, Encode(entry));
        }

        foreach (var (name, value) in StatusHeaders(status))
        {
            response.AppendTrailer(name, value);
        }

        await response.BodyWriter.FlushAsync().ConfigureAwait(false);
    }

    private static void SetTrailersOnly(HttpContext httpContext, Status status)
    {
        foreach (var (name, value) in StatusHeaders(status))
        {
            httpContext.Response.Headers[name] = value;
        }
    }

    private static IEnumerable<(string Name, string Value)> StatusHeaders(Status status)
    {
        yield return (GrpcProtocol.StatusHeader, ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(status.Detail))
        {
            yield return (GrpcProtocol.MessageHeader, GrpcProtocol.EncodeMessage(status.Detail));
        }

        if (status.Details is { } details)
        {
            yield return (GrpcProtocol.StatusDetailsHeader, GrpcProtocol.EncodeBinaryHeader(details.ToByteArray()));
        }
    }

    private static string Encode(Metadata.Entry entry) =>
        entry.IsBinary ? GrpcProtocol.EncodeBinaryHeader(entry.ValueBytes) : entry.Value;

    private static string Truncate(string value) => value.Length <= 32 ? value : value[..32] + "…";
}
