// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Grpc;

/// <summary>
/// The outcome of a call: a code, a human-readable detail, and optionally the rich
/// <c>google.rpc.Status</c> sent in <c>grpc-status-details-bin</c>.
/// </summary>
public readonly record struct Status(StatusCode Code, string Detail, Google.Rpc.Status? Details = null)
{
    public static readonly Status Ok = new(StatusCode.OK, string.Empty);

    /// <summary>The stable error code (google.rpc.ErrorInfo.reason), if the peer sent one.</summary>
    public string? ErrorCode => RichStatus.FindErrorInfo(Details)?.Reason;

    /// <summary>The correlation id (google.rpc.RequestInfo.request_id), if the peer sent one.</summary>
    public string? CorrelationId => RichStatus.FindRequestInfo(Details)?.RequestId;

    public override string ToString() =>
        ErrorCode is { } code ? $"{Code} ({code}): {Detail}" : $"{Code}: {Detail}";
}
