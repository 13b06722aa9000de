// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Signing;
using Grpc.Core;
using ExchangeBus.Node.Hosting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Files;

/// <summary>What a manifest states about a file, read from (or written to) its signed header.</summary>
public sealed record FileDescription(
    string FileId,
    SubsystemId Sender,
    string DossierId,
    uint DossierVersion,
    string SubjectId,
    string ContentType,
    string FileName,
    long Size,
    byte[] Sha256,
    int ChunkBytes)
{
    public int ChunkCount => Size == 0 ? 0 : checked((int)((Size + ChunkBytes - 1) / ChunkBytes));

    /// <summary>The length of chunk <paramref name="index"/>: the last one may be short.</summary>
    public int ChunkLength(int index) => (int)Math.Min(ChunkBytes, Size - ((long)index * ChunkBytes));

    public FileMetadata ToMetadata(IEnumerable<string> recipients) => new()
    {
        FileId = FileId,
        Sender = Sender.ToString(),
        DossierId = DossierId,
        DossierVersion = DossierVersion,
        SubjectId = SubjectId,
        ContentType = ContentType,
        FileName = FileName,
        Size = (ulong)Size,
        Sha256 = ByteString.CopyFrom(Sha256),
        Recipients = { recipients },
    };
}

/// <summary>
/// The three signed documents of file sync: acceptance, manifest and receipt. Each is a
/// <see cref="SignedEnvelope"/> whose header is a <see cref="MessageHeader"/> of its own kind and
/// whose signed body is the file (its SHA-256 stands in for it), so the exchange's signature rule,
/// verifier and message-log records serve unchanged (docs/design/file-sync.md).
/// </summary>
public static class FileDocuments
{
    /// <summary>The service code a recipient's access list names to let a sender send it files.</summary>
    public const string ServiceCode = "receiveFiles";

    public const string NameKey = "file.name";
    public const string ContentTypeKey = "file.contentType";
    public const string SizeKey = "file.size";
    public const string Sha256Key = "file.sha256";
    public const string ChunkBytesKey = "file.chunkBytes";
    public const string ChunkListKey = "file.chunksSha256";
    public const string DossierIdKey = "dossier.id";
    public const string DossierVersionKey = "dossier.version";
    public const string RecipientsKey = "file.recipients";

    private const int MaxFileIdLength = 128;
    private const int MaxTextLength = 512;

    // Separators of every platform and the characters Windows refuses in a name.
    private static readonly char[] ForbiddenInFileNames = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

    /// <summary>The service a recipient subsystem receives files on.</summary>
    public static ServiceId ReceiveService(SubsystemId recipient) => ServiceId.Parse($"{recipient}/{ServiceCode}");

    /// <summary>
    /// Letters, digits, '.', '_' and '-', beginning with a letter or digit: tools such as
    /// <c>xbus files receive</c> name a folder after the id, so "." and ".." (and hidden names)
    /// must never be ids.
    /// </summary>
    public static bool IsValidFileId(string id) =>
        id.Length is > 0 and <= MaxFileIdLength && char.IsAsciiLetterOrDigit(id[0])
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>
    /// A plain name a recipient can save as is on any common system: no separator of any
    /// platform, not "." or "..", no ".." anywhere (some tools treat "a..b" specially), no control
    /// or invisible formatting characters (a right-to-left override makes "exe.pdf" read as
    /// "fdp.exe"), none of the characters Windows refuses (<c>: * ? " &lt; &gt; |</c>; ':' also
    /// opens an NTFS alternate stream), and no trailing dot or space (Windows drops them, so two
    /// names would become one).
    /// </summary>
    public static bool IsSafeFileName(string name) =>
        name.Length is > 0 and <= 255
        && name.IndexOfAny(ForbiddenInFileNames) < 0
        && !name.Contains("..", StringComparison.Ordinal) && name != "."
        && !name.EndsWith('.') && !name.EndsWith(' ')
        && !name.Any(c => char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    /// <summary>SHA-256 of each chunk of a file, concatenated, and the SHA-256 of that list.</summary>
    public static byte[] ChunkListHash(ReadOnlySpan<byte> chunkHashes) => SHA256.HashData(chunkHashes);

    public static (MessageHeader Header, SignedEnvelope Envelope) Manifest(NodeContext node, FileDescription file, SubsystemId recipient, byte[] chunkHashes)
    {
        var header = Header(node, MessageKind.FileManifest, file, ReceiveService(recipient).ToString());
        header.Metadata[ChunkBytesKey] = file.ChunkBytes.ToString(CultureInfo.InvariantCulture);
        header.Metadata[ChunkListKey] = Convert.ToHexStringLower(ChunkListHash(chunkHashes));
        return (header, Sign(node, header, file.Sha256));
    }

    public static (MessageHeader Header, SignedEnvelope Envelope) Acceptance(NodeContext node, FileDescription file, IEnumerable<string> recipients)
    {
        var header = Header(node, MessageKind.FileAcceptance, file, string.Empty);
        header.Metadata[RecipientsKey] = string.Join(' ', recipients);
        return (header, Sign(node, header, file.Sha256));
    }

    /// <summary>The recipient's receipt: binds the manifest's to-be-signed value and the file's hash.</summary>
    public static (MessageHeader Header, SignedEnvelope Envelope) Receipt(NodeContext node, MessageHeader manifest, byte[] manifestToBeSigned, FileDescription file)
    {
        var header = new MessageHeader
        {
            Kind = MessageKind.FileReceipt,
            MessageId = manifest.MessageId,
            Client = manifest.Client,
            Service = manifest.Service,
            SubjectId = manifest.SubjectId,
            Issue = manifest.Issue,
            CreatedAt = Timestamp.FromDateTimeOffset(node.TimeProvider.GetUtcNow()),
            SenderNode = node.Node.ToString(),
            RequestHash = ByteString.CopyFrom(SHA256.HashData(manifestToBeSigned)),
        };
        header.Metadata[SizeKey] = file.Size.ToString(CultureInfo.InvariantCulture);
        header.Metadata[Sha256Key] = Convert.ToHexStringLower(file.Sha256);
        return (header, Sign(node, header, file.Sha256));
    }

    /// <summary>The file hash a file document's signature covers, from its header; null when it has none.</summary>
    public static byte[]? SignedFileHash(MessageHeader header) =>
        header.Metadata.TryGetValue(Sha256Key, out var hex) && hex.Length == 64 && TryHex(hex, out var bytes) ? bytes : null;

    /// <summary>Reads a manifest header's description of the file; every problem is a refusal with its own code.</summary>
    public static FileDescription ReadManifest(MessageHeader header, long maxFileBytes, out byte[] chunkListHash)
    {
        var m = header.Metadata;
        if (header.Kind != MessageKind.FileManifest
            || !IsValidFileId(header.MessageId)
            || !SubsystemId.TryParse(header.Client, out var sender, out _)
            || SignedFileHash(header) is not { } sha
            || !m.TryGetValue(SizeKey, out var sizeText) || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || !m.TryGetValue(ChunkBytesKey, out var chunkText) || !int.TryParse(chunkText, NumberStyles.None, CultureInfo.InvariantCulture, out var chunkBytes)
            || chunkBytes is < FileSyncOptions.MinChunkBytes or > FileSyncOptions.MaxChunkBytes
            || !m.TryGetValue(ChunkListKey, out var listHex) || listHex.Length != 64 || !TryHex(listHex, out var listHash)
            || !m.TryGetValue(DossierVersionKey, out var versionText) || !uint.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || header.CreatedAt is null)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.InvalidManifest, "The manifest is not a complete file manifest.");
        }

        var name = m.TryGetValue(NameKey, out var n) ? n : string.Empty;
        if (!IsSafeFileName(name))
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.UnsafeFileName, "The file name is not a plain file name.");
        }

        if (size > maxFileBytes)
        {
            throw new NodeException(StatusCode.ResourceExhausted, FileErrors.TooLarge, $"The file is {size} bytes; this node accepts at most {maxFileBytes}.");
        }

        chunkListHash = listHash;
        return new FileDescription(
            header.MessageId, sender!, m.TryGetValue(DossierIdKey, out var dossier) ? dossier : string.Empty, version,
            header.SubjectId, m.TryGetValue(ContentTypeKey, out var type) ? type : string.Empty, name, size, sha, chunkBytes);
    }

    /// <summary>Checks the sender's metadata; every problem it has, in one message.</summary>
    public static void CheckMetadata(FileMetadata metadata, long maxFileBytes)
    {
        if (!IsSafeFileName(metadata.FileName))
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.UnsafeFileName, "The file name must be a plain name: no path separators, no '..', no control or formatting characters, none of : * ? \" < > |, no trailing dot or space.");
        }

        var problems = new List<string>();
        if (!IsValidFileId(metadata.FileId))
        {
            problems.Add("file id must be 1-128 letters, digits, '.', '_' or '-'");
        }

        if (metadata.Sha256.Length != SHA256.HashSizeInBytes)
        {
            problems.Add("sha256 must be 32 bytes");
        }

        if (metadata.Recipients.Count is 0 or > 100)
        {
            problems.Add("there must be 1-100 recipients");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(string.Join(' ', metadata.Recipients)) > MessageLog.MessageLogRecord.MaxTextBytes)
        {
            // The acceptance's log record names them all in one field, which the log bounds.
            problems.Add($"the recipients, space-separated, must be at most {MessageLog.MessageLogRecord.MaxTextBytes} bytes");
        }

        foreach (var (value, what) in new[] { (metadata.DossierId, "dossier id"), (metadata.SubjectId, "subject id"), (metadata.ContentType, "content type") })
        {
            if (value.Length > MaxTextLength || value.Any(char.IsControl))
            {
                problems.Add($"{what} must be at most {MaxTextLength} characters, none a control character");
            }
        }

        if (problems.Count > 0)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.BadMetadata, string.Join("; ", problems));
        }

        if (metadata.Size > (ulong)maxFileBytes)
        {
            throw new NodeException(StatusCode.ResourceExhausted, FileErrors.TooLarge, $"The file is {metadata.Size} bytes; this node accepts at most {maxFileBytes}.");
        }
    }

    private static MessageHeader Header(NodeContext node, MessageKind kind, FileDescription file, string service)
    {
        var header = new MessageHeader
        {
            Kind = kind,
            MessageId = file.FileId,
            Client = file.Sender.ToString(),
            Service = service,
            SubjectId = file.SubjectId,
            Issue = file.DossierId,
            CreatedAt = Timestamp.FromDateTimeOffset(node.TimeProvider.GetUtcNow()),
            SenderNode = node.Node.ToString(),
        };
        header.Metadata[NameKey] = file.FileName;
        header.Metadata[ContentTypeKey] = file.ContentType;
        header.Metadata[SizeKey] = file.Size.ToString(CultureInfo.InvariantCulture);
        header.Metadata[Sha256Key] = Convert.ToHexStringLower(file.Sha256);
        header.Metadata[DossierIdKey] = file.DossierId;
        header.Metadata[DossierVersionKey] = file.DossierVersion.ToString(CultureInfo.InvariantCulture);
        return header;
    }

    /// <summary>Signs SHA-256(header) ‖ SHA-256(file); the body is left out of the envelope (the file travels in chunks).</summary>
    private static SignedEnvelope Sign(NodeContext node, MessageHeader header, byte[] fileSha256) =>
        EnvelopeBuilder.BuildDetached(header, fileSha256, node.Keys.Signer, node.Keys.SigningCertificateDer, node.OwnStatus.Current());

    private static bool TryHex(string hex, out byte[] bytes)
    {
        bytes = new byte[hex.Length / 2];
        return hex.Length % 2 == 0 && Convert.FromHexString(hex, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == bytes.Length;
    }
}
