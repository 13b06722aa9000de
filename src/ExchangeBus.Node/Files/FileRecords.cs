// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Files;

/// <summary>
/// Message-log records of file sync: the signed documents with the file's hash as the body hash
/// (never the file), and unsigned state changes. A verifier recomputes each signature from the
/// header and the body hash, as for an exchange (docs/design/message-log.md).
/// </summary>
internal static class FileRecords
{
    public static MessageLogRecord Signed(MessageDirection direction, MessageHeader header, SignedEnvelope envelope, byte[] fileSha256, string correlationId, string? service = null) => new()
    {
        MessageId = header.MessageId,
        Direction = direction,
        Client = header.Client,
        Service = service ?? header.Service,
        SubjectId = header.SubjectId.Length == 0 ? null : header.SubjectId,
        Issue = header.Issue,
        Status = MessageLogRecord.StatusOk,
        Header = envelope.Header.ToByteArray(),
        Body = null,
        BodySha256 = fileSha256,
        Signature = envelope.Signature.ToByteArray(),
        SignerCertificateSha256 = SHA256.HashData(envelope.SignerCertificate.Span),
        SignerCertificate = envelope.SignerCertificate.ToByteArray(),
        OcspResponse = envelope.SignerOcspResponse.IsEmpty ? null : envelope.SignerOcspResponse.ToByteArray(),
        CorrelationId = correlationId,
    };

    /// <summary>A state change or refusal: the status is the new state's name or the error code.</summary>
    public static MessageLogRecord State(FileDescription file, string service, string status, string correlationId) => new()
    {
        MessageId = file.FileId,
        Direction = MessageDirection.FileState,
        Client = file.Sender.ToString(),
        Service = service,
        SubjectId = file.SubjectId.Length == 0 ? null : file.SubjectId,
        Issue = file.DossierId,
        Status = status,
        Header = [],
        Body = null,
        BodySha256 = file.Sha256,
        Signature = [],
        CorrelationId = correlationId,
    };

    /// <summary>The status of the record of an operator's retry of a failed delivery (<see cref="Retry"/>).</summary>
    public const string RetryStatus = "retry";

    /// <summary>
    /// An operator's retry of a failed delivery: a state change like the others (the failure
    /// before it stays), with who asked as the record's user (<c>console:NAME</c>, <c>cli:USER</c>).
    /// </summary>
    public static MessageLogRecord Retry(FileDescription file, string service, string requestedBy, string correlationId) =>
        State(file, service, RetryStatus, correlationId) with { UserId = requestedBy };

    /// <summary>A refused manifest that did verify: unsigned, with the code, like a refused request.</summary>
    public static MessageLogRecord Refused(MessageHeader header, byte[] fileSha256, string code, string correlationId) =>
        ExchangeRecords.Outcome(MessageDirection.FileManifestReceived, header, code, correlationId) with { BodySha256 = fileSha256 };

}

/// <summary>The words states are logged and shown as.</summary>
public static class DeliveryStates
{
    public static string Name(DeliveryState state) => state switch
    {
        DeliveryState.Accepted => "accepted",
        DeliveryState.Sending => "sending",
        DeliveryState.Delivered => "delivered",
        DeliveryState.Acknowledged => "acknowledged",
        DeliveryState.Failed => "failed",
        DeliveryState.Superseded => "superseded",
        _ => "unspecified",
    };
}
