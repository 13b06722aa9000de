// SPDX-License-Identifier: Apache-2.0
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

namespace ExchangeBus.Grpc;

/// <summary>
/// The bus's convention for rich errors: every error carries a <c>google.rpc.ErrorInfo</c>
/// whose reason is a stable code (X-Road style, e.g. <c>Server.ServerProxy.AccessDenied</c>)
/// and a <c>google.rpc.RequestInfo</c> whose request id is the correlation id. Any gRPC
/// implementation can decode both from <c>grpc-status-details-bin</c>.
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

        return new RpcException(new Status(code, message, details));
    }

    public static ErrorInfo? FindErrorInfo(Google.Rpc.Status? details) => Find<ErrorInfo>(details);

    public static RequestInfo? FindRequestInfo(Google.Rpc.Status? details) => Find<RequestInfo>(details);

    private static T? Find<T>(Google.Rpc.Status? details)
        where T : class, Google.Protobuf.IMessage<T>, new()
    {
        if (details is null)
        {
            return null;
        }

        foreach (var any in details.Details)
        {
            // A peer may send details we cannot parse; they are ignored, not fatal.
            if (any.TryUnpack<T>(out var value))
            {
                return value;
            }
        }

        return null;
    }
}
