// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Grpc;

/// <summary>
/// A call that ended with a non-OK status. Server handlers throw it to answer with that status;
/// clients receive it when the peer (or the transport) ended the call with one.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(Status status)
        : this(status, trailers: null)
    {
    }

    public RpcException(Status status, Metadata? trailers)
        : base(status.ToString())
    {
        Status = status;
        Trailers = trailers ?? Metadata.Empty;
    }

    public RpcException(Status status, Metadata? trailers, Exception? innerException)
        : base(status.ToString(), innerException)
    {
        Status = status;
        Trailers = trailers ?? Metadata.Empty;
    }

    public RpcException(StatusCode code, string detail)
        : this(new Status(code, detail))
    {
    }

    public Status Status { get; }

    public StatusCode StatusCode => Status.Code;

    /// <summary>The stable error code from the rich status details, if any.</summary>
    public string? ErrorCode => Status.ErrorCode;

    /// <summary>Trailing metadata received with the status (client side).</summary>
    public Metadata Trailers { get; }
}
