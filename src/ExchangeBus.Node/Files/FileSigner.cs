// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Trust;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Files;

/// <summary>
/// Signs this node's file documents (acceptances, manifests, receipts) with its member's key,
/// the node's current OCSP response beside the signature (<see cref="FileDocuments"/> reads them).
/// </summary>
public sealed class FileSigner(NodeId node, NodeKeys keys, OwnCertificateStatus ownStatus, TimeProvider time)
{
    public (MessageHeader Header, SignedEnvelope Envelope) Manifest(FileDescription file, SubsystemId recipient, byte[] chunkHashes)
    {
        var header = Header(MessageKind.FileManifest, file, FileDocuments.ReceiveService(recipient).ToString());
        header.Metadata[FileDocuments.ChunkBytesKey] = file.ChunkBytes.ToString(CultureInfo.InvariantCulture);
        header.Metadata[FileDocuments.ChunkListKey] = Convert.ToHexStringLower(FileDocuments.ChunkListHash(chunkHashes));
        return (header, Sign(header, file.Sha256));
    }

    public (MessageHeader Header, SignedEnvelope Envelope) Acceptance(FileDescription file, IEnumerable<string> recipients)
    {
        var header = Header(MessageKind.FileAcceptance, file, string.Empty);
        header.Metadata[FileDocuments.RecipientsKey] = string.Join(' ', recipients);
        return (header, Sign(header, file.Sha256));
    }

    /// <summary>The recipient's receipt: binds the manifest's to-be-signed value and the file's hash.</summary>
    public (MessageHeader Header, SignedEnvelope Envelope) Receipt(MessageHeader manifest, byte[] manifestToBeSigned, FileDescription file)
    {
        // The only difference from an exchange's response: no user id. File documents name none
        // (Header below sets none), so a receipt does not repeat one a manifest may carry.
        var header = AnswerHeader.For(manifest, manifestToBeSigned, MessageKind.FileReceipt, node.ToString(), time.GetUtcNow(), withUserId: false);
        header.Metadata[FileDocuments.SizeKey] = file.Size.ToString(CultureInfo.InvariantCulture);
        header.Metadata[FileDocuments.Sha256Key] = Convert.ToHexStringLower(file.Sha256);
        return (header, Sign(header, file.Sha256));
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

    /// <summary>Signs SHA-256(header) ‖ SHA-256(file); the body is left out of the envelope (the file travels in chunks).</summary>
    private SignedEnvelope Sign(MessageHeader header, byte[] fileSha256) =>
        EnvelopeBuilder.BuildDetached(header, fileSha256, keys.Signer, keys.SigningCertificateDer, ownStatus.Current());
}
