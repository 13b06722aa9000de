// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Exchange;

/// <summary>Builds message-log records from envelopes, the same way on both sides.</summary>
internal static class ExchangeRecords
{
    public static MessageLogRecord From(
        MessageDirection direction, MessageHeader header, SignedEnvelope envelope, bool logBody, string status, string correlationId) => new()
    {
        MessageId = header.MessageId,
        Direction = direction,
        Client = header.Client,
        Service = header.Service,
        UserId = header.UserId,
        SubjectId = header.SubjectId.Length == 0 ? null : header.SubjectId,
        Issue = header.Issue,
        Status = status,
        Header = envelope.Header.ToByteArray(),
        Body = logBody ? envelope.Body.ToByteArray() : null,
        BodySha256 = SHA256.HashData(envelope.Body.Span),
        Signature = envelope.Signature.ToByteArray(),
        SignerCertificateSha256 = envelope.SignerCertificate.IsEmpty ? null : SHA256.HashData(envelope.SignerCertificate.Span),
        SignerCertificate = envelope.SignerCertificate.IsEmpty ? null : envelope.SignerCertificate.ToByteArray(),
        OcspResponse = envelope.SignerOcspResponse.IsEmpty ? null : envelope.SignerOcspResponse.ToByteArray(),
        CorrelationId = correlationId,
    };

    /// <summary>A refusal or failure with no signed message to keep: who asked what, and the code.</summary>
    public static MessageLogRecord Outcome(MessageDirection direction, MessageHeader header, string status, string correlationId) => new()
    {
        MessageId = header.MessageId,
        Direction = direction,
        Client = header.Client,
        Service = header.Service,
        UserId = header.UserId,
        SubjectId = header.SubjectId.Length == 0 ? null : header.SubjectId,
        Issue = header.Issue,
        Status = status,
        Header = [],
        Body = null,
        BodySha256 = SHA256.HashData([]),
        Signature = [],
        CorrelationId = correlationId,
    };
}
