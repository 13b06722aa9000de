// SPDX-License-Identifier: Apache-2.0
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ExchangeBus.Grpc;

/// <summary>
/// The last line of the bus's error convention on every server: an exception a service did not
/// turn into a coded <see cref="RpcException"/> is answered as <c>Server.InternalError</c> with
/// the call's correlation id, its text logged here and never sent to the peer. A call the client
/// abandoned or whose deadline passed is left to the runtime, which answers CANCELLED or
/// DEADLINE_EXCEEDED.
/// </summary>
public sealed partial class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unhandled(ex, context))
        {
            throw Internal(ex, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unhandled(ex, context))
        {
            throw Internal(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unhandled(ex, context))
        {
            throw Internal(ex, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unhandled(ex, context))
        {
            throw Internal(ex, context);
        }
    }

    private static bool Unhandled(Exception exception, ServerCallContext context) =>
        exception is not RpcException && !context.CancellationToken.IsCancellationRequested;

    private RpcException Internal(Exception exception, ServerCallContext context)
    {
        var correlationId = context.CorrelationId;
        HandlerFailed(logger, context.Method, correlationId, exception);
        return RichStatus.Error(StatusCode.Unknown, RichStatus.InternalErrorCode, "The service failed to handle the call.", correlationId);
    }

    [LoggerMessage(1000, LogLevel.Error, "Handler for {Method} failed (correlation id {CorrelationId})")]
    private static partial void HandlerFailed(ILogger logger, string method, string correlationId, Exception exception);
}
