// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Trust;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Files;

/// <summary>
/// Signs this node's file documents (acceptances, manifests, receipts) with its member's key,
/// the node's current OCSP response beside the signature (<see cref="FileDocuments"/> reads them).
/// The signatures come from the node's <see cref="EnvelopeSigningQueue"/>, as an exchange's do:
/// documents waiting together (a file's acceptance and manifests, the receipts of deliveries
/// running at once, requests and responses) share one ECDSA signature in the batch form, and a
/// lone one is signed in the single form (docs/design/envelope-signature.md, "Batch form").
/// </summary>
public sealed class FileSigner(NodeId node, NodeKeys keys, OwnCertificateStatus ownStatus, EnvelopeSigningQueue signing, TimeProvider time)
{
    public Task<(MessageHeader Header, SignedEnvelope Envelope)> ManifestAsync(FileDescription file, SubsystemId recipient, byte[] chunkHashes, CancellationToken cancellationToken)
    {
        var header = Header(MessageKind.FileManifest, file, FileDocuments.ReceiveService(recipient).ToString());
        header.Metadata[FileDocuments.ChunkBytesKey] = file.ChunkBytes.ToString(CultureInfo.InvariantCulture);
        header.Metadata[FileDocuments.ChunkListKey] = Convert.ToHexStringLower(FileDocuments.ChunkListHash(chunkHashes));
        return SignAsync(header, file.Sha256, cancellationToken);
    }

    public Task<(MessageHeader Header, SignedEnvelope Envelope)> AcceptanceAsync(FileDescription file, IEnumerable<string> recipients, CancellationToken cancellationToken)
    {
        var header = Header(MessageKind.FileAcceptance, file, string.Empty);
        header.Metadata[FileDocuments.RecipientsKey] = string.Join(' ', recipients);
        return SignAsync(header, file.Sha256, cancellationToken);
    }

    /// <summary>The recipient's receipt: binds the manifest's to-be-signed value and the file's hash.</summary>
    public Task<(MessageHeader Header, SignedEnvelope Envelope)> ReceiptAsync(MessageHeader manifest, byte[] manifestToBeSigned, FileDescription file, CancellationToken cancellationToken)
    {
        // The only difference from an exchange's response: no user id. File documents name none
        // (Header below sets none), so a receipt does not repeat one a manifest may carry.
        var header = AnswerHeader.For(manifest, manifestToBeSigned, MessageKind.FileReceipt, node.ToString(), time.GetUtcNow(), withUserId: false);
        header.Metadata[FileDocuments.SizeKey] = file.Size.ToString(CultureInfo.InvariantCulture);
        header.Metadata[FileDocuments.Sha256Key] = Convert.ToHexStringLower(file.Sha256);
        return SignAsync(header, file.Sha256, cancellationToken);
    }

    private MessageHeader Header(MessageKind kind, FileDescription file, string service)
    {
        var header = new MessageHeader
        {
            Kind = kind,
            MessageId = file.FileId,
            Client = file.Sender.ToString(),
            Service = service,
            SubjectId = file.SubjectId,
            Issue = file.DossierId,
            CreatedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            SenderNode = node.ToString(),
        };
        header.Metadata[FileDocuments.NameKey] = file.FileName;
        header.Metadata[FileDocuments.ContentTypeKey] = file.ContentType;
        header.Metadata[FileDocuments.SizeKey] = file.Size.ToString(CultureInfo.InvariantCulture);
        header.Metadata[FileDocuments.Sha256Key] = Convert.ToHexStringLower(file.Sha256);
        header.Metadata[FileDocuments.DossierIdKey] = file.DossierId;
        header.Metadata[FileDocuments.DossierVersionKey] = file.DossierVersion.ToString(CultureInfo.InvariantCulture);
        return header;
    }

    /// <summary>
    /// Signs SHA-256(header) ‖ SHA-256(file), the header serialized once (those bytes travel and
    /// are signed); the body is left out of the envelope (the file travels in chunks).
    /// </summary>
    private async Task<(MessageHeader Header, SignedEnvelope Envelope)> SignAsync(MessageHeader header, byte[] fileSha256, CancellationToken cancellationToken)
    {
        var headerBytes = header.ToByteArray();
        var toBeSigned = EnvelopeDigest.FromHashes(SHA256.HashData(headerBytes), fileSha256);
        var signature = await signing.SignAsync(toBeSigned, cancellationToken).ConfigureAwait(false);
        return (header, EnvelopeBuilder.WithSignature(headerBytes, ByteString.Empty, signature, keys.SigningCertificateDer, ownStatus.Current()));
    }
}
