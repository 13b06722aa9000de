// SPDX-License-Identifier: Apache-2.0

namespace ExchangeBus.Grpc.Internal;

/// <summary>Transport server log events, ids 1000–1099. Never payloads or metadata values.</summary>
internal static partial class GrpcServerLog
{
    [LoggerMessage(1000, LogLevel.Error, "Handler for {Method} failed (correlation id {CorrelationId})")]
    public static partial void HandlerFailed(ILogger logger, string method, string correlationId, Exception exception);

    [LoggerMessage(1001, LogLevel.Debug, "Call {Method} ended with {StatusCode}")]
    public static partial void CallEnded(ILogger logger, string method, StatusCode statusCode);

    [LoggerMessage(1002, LogLevel.Debug, "Call {Method} deadline exceeded")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(1003, LogLevel.Debug, "Call {Method} abandoned by the client")]
    public static partial void ClientAbandoned(ILogger logger, string method);

    [LoggerMessage(1004, LogLevel.Information, "Refused a request for unknown method {Path}")]
    public static partial void UnknownMethod(ILogger logger, string path);

    [LoggerMessage(1005, LogLevel.Debug, "Refused a request that is not gRPC ({Protocol}, content type {ContentType})")]
    public static partial void NotGrpc(ILogger logger, string protocol, string? contentType);
}
