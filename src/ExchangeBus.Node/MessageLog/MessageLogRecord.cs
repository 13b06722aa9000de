// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Text;

namespace ExchangeBus.Node.MessageLog;

/// <summary>Which side of an exchange a record was made on, and which way the message went.</summary>
/// <remarks>The numbers are stored in the database and covered by the record hash: never renumber.</remarks>
public enum MessageDirection
{
    /// <summary>The request this node sent as the client's node.</summary>
    ClientRequest = 1,

    /// <summary>The response the client's node received.</summary>
    ClientResponse = 2,

    /// <summary>The request the provider's node received.</summary>
    ProviderRequest = 3,

    /// <summary>The response the provider's node sent.</summary>
    ProviderResponse = 4,

    /// <summary>An auditor's query to this node's audit API: who asked what, and the outcome.</summary>
    AuditQuery = 5,

    /// <summary>File sync: the sender's node accepted a file from its system (the signed acceptance).</summary>
    FileAccepted = 6,

    /// <summary>File sync: the manifest the sender's node signed for one recipient.</summary>
    FileManifestSent = 7,

    /// <summary>File sync: a manifest the recipient's node received (or refused: then unsigned, with the code).</summary>
    FileManifestReceived = 8,

    /// <summary>File sync: the receipt the recipient's node signed.</summary>
    FileReceiptSent = 9,

    /// <summary>File sync: a receipt the sender's node received and verified.</summary>
    FileReceiptReceived = 10,

    /// <summary>File sync: a delivery's state changed; unsigned, the status is the new state or the error code.</summary>
    FileState = 11,
}

/// <summary>Who signs the messages of each direction, for verifiers of the log.</summary>
public static class MessageDirections
{
    /// <summary>Signed by the client's (sender's) member: requests, file acceptances and manifests.</summary>
    public static bool SignedByClient(MessageDirection direction) => direction is MessageDirection.ClientRequest or MessageDirection.ProviderRequest
        or MessageDirection.FileAccepted or MessageDirection.FileManifestSent or MessageDirection.FileManifestReceived;

    /// <summary>Signed by the member providing the service (receiving the file): responses and file receipts.</summary>
    public static bool SignedByService(MessageDirection direction) => direction is MessageDirection.ClientResponse or MessageDirection.ProviderResponse
        or MessageDirection.FileReceiptSent or MessageDirection.FileReceiptReceived;
}

/// <summary>
/// One message as the message log keeps it: who, what, the signed bytes as they went over the
/// wire and the outcome. The log assigns <see cref="At"/> (and the sequence number) when it
/// writes the record; a value set by the caller is ignored.
/// </summary>
/// <remarks>
/// The arrays are kept by reference until the record is committed: do not change them after
/// handing the record to <see cref="SqliteMessageLog.AppendAsync"/>.
/// </remarks>
public sealed record MessageLogRecord
{
    /// <summary>The status of a message that was answered normally.</summary>
    public const string StatusOk = "OK";

    /// <summary>Largest header accepted: a signed header is small, anything bigger is a fault.</summary>
    public const int MaxHeaderBytes = 64 * 1024;

    /// <summary>Largest text field (UTF-8 bytes): identifiers, user id, issue, status, correlation id.</summary>
    public const int MaxTextBytes = 4 * 1024;

    /// <summary>Largest signature accepted (a P-256 DER signature is about 72 bytes).</summary>
    public const int MaxSignatureBytes = 8 * 1024;

    /// <summary>Largest certificate or OCSP response kept beside a record (each is a few hundred bytes to a few KiB).</summary>
    public const int MaxEvidenceBytes = 64 * 1024;

    public required string MessageId { get; init; }

    public required MessageDirection Direction { get; init; }

    /// <summary>The client subsystem's identifier, as text.</summary>
    public required string Client { get; init; }

    /// <summary>The service's identifier, as text.</summary>
    public required string Service { get; init; }

    /// <summary>The official who made the call, as the client's system named them.</summary>
    public string UserId { get; init; } = string.Empty;

    /// <summary>The citizen the data is about, if any. The log stores an empty value as none.</summary>
    public string? SubjectId { get; init; }

    /// <summary>The case number the call was made for.</summary>
    public string Issue { get; init; } = string.Empty;

    /// <summary><see cref="StatusOk"/> or a stable error code such as <c>Server.ServerProxy.AccessDenied</c>.</summary>
    public required string Status { get; init; }

    /// <summary>The signed header, bytes exactly as sent.</summary>
    public required byte[] Header { get; init; }

    /// <summary>The body as sent, or <see langword="null"/> when the subsystem turned body logging off.</summary>
    public byte[]? Body { get; init; }

    /// <summary>SHA-256 of the body, kept even when the body is not.</summary>
    public required byte[] BodySha256 { get; init; }

    /// <summary>The signature over header and body (empty when the message was refused before it was signed).</summary>
    public required byte[] Signature { get; init; }

    /// <summary>SHA-256 of the signer's certificate (DER), when known.</summary>
    public byte[]? SignerCertificateSha256 { get; init; }

    public string CorrelationId { get; init; } = string.Empty;

    /// <summary>
    /// The signer's certificate (DER). Kept once per distinct certificate beside the records, so
    /// an auditor can check the signature years later; the record hash covers its SHA-256.
    /// </summary>
    public byte[]? SignerCertificate { get; init; }

    /// <summary>
    /// The OCSP response that travelled with the message (DER), kept beside the record. Not in the
    /// record hash: the OCSP responder's own signature is what makes it evidence.
    /// </summary>
    public byte[]? OcspResponse { get; init; }

    /// <summary>When the log wrote the record (millisecond precision); assigned by the log.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Every problem that keeps this record out of the log (sizes, not contents, so the list is safe to log).</summary>
    internal List<string> Validate(long maxBodyBytes)
    {
        var problems = new List<string>();
        CheckText(problems, nameof(MessageId), MessageId, required: true);
        CheckText(problems, nameof(Client), Client, required: true);
        CheckText(problems, nameof(Service), Service, required: true);
        CheckText(problems, nameof(UserId), UserId, required: false);
        if (SubjectId is not null)
        {
            CheckText(problems, nameof(SubjectId), SubjectId, required: false);
        }

        CheckText(problems, nameof(Issue), Issue, required: false);
        CheckText(problems, nameof(Status), Status, required: true);
        CheckText(problems, nameof(CorrelationId), CorrelationId, required: false);

        if (!Enum.IsDefined(Direction))
        {
            problems.Add($"{nameof(Direction)} {(int)Direction} is not a known direction");
        }

        if (Header is null)
        {
            problems.Add($"{nameof(Header)} is missing");
        }
        else if (Header.Length > MaxHeaderBytes)
        {
            problems.Add($"{nameof(Header)} has {Header.Length} bytes, more than {MaxHeaderBytes}");
        }

        if (Signature is null)
        {
            problems.Add($"{nameof(Signature)} is missing");
        }
        else if (Signature.Length > MaxSignatureBytes)
        {
            problems.Add($"{nameof(Signature)} has {Signature.Length} bytes, more than {MaxSignatureBytes}");
        }

        if (SignerCertificateSha256 is not null && SignerCertificateSha256.Length != SHA256.HashSizeInBytes)
        {
            problems.Add($"{nameof(SignerCertificateSha256)} has {SignerCertificateSha256.Length} bytes, not {SHA256.HashSizeInBytes}");
        }

        if (SignerCertificate is not null)
        {
            if (SignerCertificate.Length > MaxEvidenceBytes)
            {
                problems.Add($"{nameof(SignerCertificate)} has {SignerCertificate.Length} bytes, more than {MaxEvidenceBytes}");
            }
            else if (SignerCertificateSha256 is null || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(SignerCertificate), SignerCertificateSha256))
            {
                problems.Add($"{nameof(SignerCertificateSha256)} is not the SHA-256 of {nameof(SignerCertificate)}");
            }
        }

        if (OcspResponse is { Length: > MaxEvidenceBytes })
        {
            problems.Add($"{nameof(OcspResponse)} has {OcspResponse.Length} bytes, more than {MaxEvidenceBytes}");
        }

        if (BodySha256 is null || BodySha256.Length != SHA256.HashSizeInBytes)
        {
            problems.Add($"{nameof(BodySha256)} must be {SHA256.HashSizeInBytes} bytes");
        }
        else if (Body is not null)
        {
            if (Body.Length > maxBodyBytes)
            {
                problems.Add($"{nameof(Body)} has {Body.Length} bytes, more than {maxBodyBytes}");
            }
            else if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Body), BodySha256))
            {
                // Refused here, on the caller's thread: stored, it would read as tampering at every verify.
                problems.Add($"{nameof(BodySha256)} is not the SHA-256 of {nameof(Body)}");
            }
        }

        return problems;
    }

    private static void CheckText(List<string> problems, string name, string? value, bool required)
    {
        if (value is null)
        {
            problems.Add($"{name} is missing");
            return;
        }

        if (required && value.Length == 0)
        {
            problems.Add($"{name} is empty");
            return;
        }

        // NUL does not survive every SQLite text path, and a lone surrogate has no UTF-8 form:
        // either would make the stored text differ from what was hashed.
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add($"{name} contains a NUL character");
            return;
        }

        int bytes;
        try
        {
            bytes = MessageLogHash.Utf8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            problems.Add($"{name} is not valid Unicode");
            return;
        }

        if (bytes > MaxTextBytes)
        {
            problems.Add($"{name} has {bytes} UTF-8 bytes, more than {MaxTextBytes}");
        }
    }
}

/// <summary>A record as stored: its sequence number, its content and its place in the hash chain.</summary>
public sealed record MessageLogEntry(long Sequence, MessageLogRecord Record, byte[] PreviousHash, byte[] Hash);

/// <summary>A record with the certificate and OCSP response kept beside it (null where there were none).</summary>
public sealed record MessageLogEvidence(MessageLogEntry Entry, byte[]? SignerCertificate, byte[]? OcspResponse);
