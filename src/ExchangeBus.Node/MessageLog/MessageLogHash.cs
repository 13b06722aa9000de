// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The record hash: <c>SHA-256(prev_hash ‖ content)</c>, where content is the canonical,
/// length-prefixed encoding of every other column. docs/design/message-log.md gives the same
/// rule for auditors; a test vector there is checked by the tests, so the two cannot drift.
/// </summary>
/// <remarks>
/// The layout is written once, in <see cref="WriteFields"/>, for both the writer (a
/// <see cref="MessageLogRecord"/> of strings) and the verifier (a row's stored UTF-8, in
/// RecordChunk): two copies of it could disagree on a case one path's tests never reach.
/// </remarks>
internal static class MessageLogHash
{
    /// <summary>First byte of the content; a new encoding gets a new number.</summary>
    public const byte FormatVersion = 1;

    public const int Size = 32;

    /// <summary>Strict UTF-8: a string with no UTF-8 form is refused, never silently replaced.</summary>
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The length prefix of a NULL text or blob; no real length is this large.</summary>
    private const uint AbsentLength = uint.MaxValue;

    /// <summary>A buffer that grew past this for a large header is not kept for the next record.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    // The content is encoded into one buffer and hashed by one call: fed field by field, each of
    // the ~35 pieces was its own call into the crypto library, which cost more than the hashing
    // (issue 19's profile of the writer thread). Buffers a thread, reused: the writer and a
    // verifier each hash on their own thread. The texts' UTF-8 has its own buffer because the
    // content's length is known only once they are encoded.
    [ThreadStatic]
    private static byte[]? t_text;

    [ThreadStatic]
    private static byte[]? t_content;

    /// <summary>The previous hash of record 1.</summary>
    public static byte[] Genesis() => new byte[Size];

    /// <summary>The log keeps "no subject" as NULL, whether the caller said null or empty.</summary>
    public static string? NormalizeSubject(string? subjectId) => string.IsNullOrEmpty(subjectId) ? null : subjectId;

    /// <summary>Hashes one record; <paramref name="hasher"/> is a SHA-256 <see cref="IncrementalHash"/>, reused by the caller.</summary>
    public static byte[] Compute(IncrementalHash hasher, ReadOnlySpan<byte> previousHash, long sequence, long atMs, MessageLogRecord record)
    {
        var text = Room(ref t_text, MaxUtf8(record.MessageId) + MaxUtf8(record.Client) + MaxUtf8(record.Service) + MaxUtf8(record.UserId)
            + MaxUtf8(record.SubjectId) + MaxUtf8(record.Issue) + MaxUtf8(record.Status) + MaxUtf8(record.CorrelationId));
        try
        {
            var used = 0;
            var fields = new Fields
            {
                PreviousHash = previousHash,
                Sequence = sequence,
                AtMs = atMs,
                MessageId = Text(record.MessageId, text, ref used),
                Direction = (long)record.Direction,
                Client = Text(record.Client, text, ref used),
                Service = Text(record.Service, text, ref used),
                UserId = Text(record.UserId, text, ref used),
                SubjectId = Text(record.SubjectId, text, ref used),
                Issue = Text(record.Issue, text, ref used),
                Status = Text(record.Status, text, ref used),
                Header = Blob(record.Header),
                HasBody = record.Body is not null,
                BodySha256 = Blob(record.BodySha256),
                Signature = Blob(record.Signature),
                SignerCertificateSha256 = Blob(record.SignerCertificateSha256),
                CorrelationId = Text(record.CorrelationId, text, ref used),
            };
            var content = Room(ref t_content, EncodedLength(fields));
            try
            {
                hasher.AppendData(Encode(fields, content));
                return hasher.GetHashAndReset();
            }
            finally
            {
                Release(ref t_content, content);
            }
        }
        finally
        {
            Release(ref t_text, text);
        }
    }

    /// <summary>How many bytes <see cref="Encode"/> writes for <paramref name="fields"/> (prev_hash ‖ content).</summary>
    public static int EncodedLength(in Fields fields)
    {
        // Measured by the same walk that writes, so the length cannot miss a field.
        var measure = ContentWriter.Measuring();
        WriteFields(fields, ref measure);
        return measure.Written;
    }

    /// <summary>Writes <c>prev_hash ‖ content</c> into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes) and returns what it wrote.</summary>
    public static ReadOnlySpan<byte> Encode(in Fields fields, Span<byte> destination)
    {
        var writer = new ContentWriter(destination);
        WriteFields(fields, ref writer);
        return destination[..writer.Written];
    }

    /// <summary>The documented field order (docs/design/message-log.md, "The record hash"): the one place it is written.</summary>
    private static void WriteFields(in Fields fields, ref ContentWriter content)
    {
        content.Bytes(fields.PreviousHash);
        content.Byte(FormatVersion);
        content.Int64(fields.Sequence);
        content.Int64(fields.AtMs);
        content.Field(fields.MessageId);
        content.Int64(fields.Direction);
        content.Field(fields.Client);
        content.Field(fields.Service);
        content.Field(fields.UserId);

        // The log keeps "no subject" as NULL (NormalizeSubject); an empty one hashes as none on
        // either path, whatever the caller or the row said.
        content.Field(fields.SubjectId.Bytes.IsEmpty ? Field.Absent : fields.SubjectId);
        content.Field(fields.Issue);
        content.Field(fields.Status);
        content.Field(fields.Header);

        // The body's bytes are committed through body_sha256 (next field, checked on its own by
        // verify); only whether it is stored goes in here. So the single writer never hashes a
        // 64 MiB body, and a removed body still breaks the chain.
        content.Byte(fields.HasBody ? (byte)1 : (byte)0);
        content.Field(fields.BodySha256);
        content.Field(fields.Signature);
        content.Field(fields.SignerCertificateSha256);
        content.Field(fields.CorrelationId);
    }

    private static int MaxUtf8(string? value) => value is null ? 0 : Utf8.GetMaxByteCount(value.Length);

    private static Field Text(string? value, Span<byte> room, ref int used)
    {
        if (value is null)
        {
            return Field.Absent;
        }

        var written = Utf8.GetBytes(value, room[used..]);
        var field = new Field(room.Slice(used, written));
        used += written;
        return field;
    }

    private static Field Blob(byte[]? value) => value is null ? Field.Absent : new Field(value);

    private static byte[] Room(ref byte[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = new byte[Math.Max(4096, (int)BitOperations.RoundUpToPowerOf2((uint)length))];
        }

        return buffer;
    }

    private static void Release(ref byte[]? buffer, byte[] used)
    {
        if (used.Length > KeptBufferBytes)
        {
            buffer = null;
        }
    }

    /// <summary>A text or blob as the hash sees it: its bytes, or absent (NULL), which differs from empty.</summary>
    internal readonly ref struct Field
    {
        public Field(ReadOnlySpan<byte> bytes)
        {
            Bytes = bytes;
            IsPresent = true;
        }

        public static Field Absent => default;

        public ReadOnlySpan<byte> Bytes { get; }

        public bool IsPresent { get; }
    }

    /// <summary>One record's hashed values as bytes, whether they came from a <see cref="MessageLogRecord"/> or a stored row.</summary>
    internal readonly ref struct Fields
    {
        public required ReadOnlySpan<byte> PreviousHash { get; init; }

        public required long Sequence { get; init; }

        public required long AtMs { get; init; }

        public required Field MessageId { get; init; }

        public required long Direction { get; init; }

        public required Field Client { get; init; }

        public required Field Service { get; init; }

        public required Field UserId { get; init; }

        public required Field SubjectId { get; init; }

        public required Field Issue { get; init; }

        public required Field Status { get; init; }

        public required Field Header { get; init; }

        public required bool HasBody { get; init; }

        public required Field BodySha256 { get; init; }

        public required Field Signature { get; init; }

        public required Field SignerCertificateSha256 { get; init; }

        public required Field CorrelationId { get; init; }
    }

    /// <summary>
    /// Writes the encoding's pieces (big-endian, length-prefixed) into a span; measuring, it only
    /// counts, so the length and the bytes come from one walk over the fields.
    /// </summary>
    private ref struct ContentWriter
    {
        private readonly Span<byte> _destination;
        private readonly bool _measuring;

        public ContentWriter(Span<byte> destination)
        {
            _destination = destination;
        }

        private ContentWriter(bool measuring)
        {
            _measuring = measuring;
        }

        public int Written { get; private set; }

        public static ContentWriter Measuring() => new(measuring: true);

        public void Bytes(ReadOnlySpan<byte> value)
        {
            if (!_measuring)
            {
                value.CopyTo(_destination[Written..]);
            }

            Written += value.Length;
        }

        public void Byte(byte value)
        {
            if (!_measuring)
            {
                _destination[Written] = value;
            }

            Written++;
        }

        public void Int64(long value)
        {
            if (!_measuring)
            {
                BinaryPrimitives.WriteInt64BigEndian(_destination[Written..], value);
            }

            Written += sizeof(long);
        }

        /// <summary>A text or blob: its 4-byte length and its bytes, or the absent length alone.</summary>
        public void Field(Field value)
        {
            UInt32(value.IsPresent ? (uint)value.Bytes.Length : AbsentLength);
            Bytes(value.Bytes);
        }

        private void UInt32(uint value)
        {
            if (!_measuring)
            {
                BinaryPrimitives.WriteUInt32BigEndian(_destination[Written..], value);
            }

            Written += sizeof(uint);
        }
    }
}
