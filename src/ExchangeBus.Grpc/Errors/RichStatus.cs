// SPDX-License-Identifier: Apache-2.0
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace ExchangeBus.Grpc;

/// <summary>
/// The bus's convention for rich errors: every error carries a <c>google.rpc.ErrorInfo</c>
/// whose reason is a stable code (X-Road style, e.g. <c>Server.ServerProxy.AccessDenied</c>)
/// and a <c>google.rpc.RequestInfo</c> whose request id is the correlation id, in the standard
/// <c>grpc-status-details-bin</c> trailer (Grpc.StatusProto), so any gRPC implementation can
/// decode both.
/// </summary>
public static class RichStatus
{
    public const string Domain = "exchangebus";

    /// <summary>The code answered for an exception a service did not handle (its text stays on the server).</summary>
    public const string InternalErrorCode = "Server.InternalError";

    /// <summary>Builds an exception a handler throws to answer with a coded error.</summary>
    public static RpcException Error(StatusCode code, string errorCode, string message, string? correlationId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorCode);
        var details = new Google.Rpc.Status { Code = (int)code, Message = message };
        details.Details.Add(Any.Pack(new ErrorInfo { Reason = errorCode, Domain = Domain }));
        if (!string.IsNullOrEmpty(correlationId))
        {
            details.Details.Add(Any.Pack(new RequestInfo { RequestId = correlationId }));
        }

        return details.ToRpcException();
    }

    /// <summary>
    /// Answers a gRPC request with <paramref name="error"/> from middleware, before any service
    /// runs: a trailers-only response (status, message and the rich details in the headers, no
    /// body), which every gRPC client reads as the call's status.
    /// </summary>
    public static Task AnswerAsync(HttpContext httpContext, RpcException error)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(error);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)error.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);

        // The protocol percent-encodes the message; escaping more than it must is still valid.
        response.Headers["grpc-message"] = Uri.EscapeDataString(error.Status.Detail);
        foreach (var entry in error.Trailers)
        {
            response.Headers[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
        }

        return response.CompleteAsync();
    }

    public static ErrorInfo? FindErrorInfo(Google.Rpc.Status? details) => details?.GetDetail<ErrorInfo>();

    public static RequestInfo? FindRequestInfo(Google.Rpc.Status? details) => details?.GetDetail<RequestInfo>();

    /// <summary>
    /// The rich status a call ended with, or null when there is none or it cannot be parsed (a
    /// peer may send anything; that is not fatal).
    /// </summary>
    public static Google.Rpc.Status? Details(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        try
        {
            return exception.GetRpcStatus();
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    extension(RpcException exception)
    {
        /// <summary>The stable error code from the rich status details, if any.</summary>
        public string? ErrorCode => FindErrorInfo(Details(exception))?.Reason;

        /// <summary>The correlation id from the rich status details, if any.</summary>
        public string? CorrelationId => FindRequestInfo(Details(exception))?.RequestId;
    }
}
