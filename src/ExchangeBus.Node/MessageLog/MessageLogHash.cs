// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The record hash: <c>SHA-256(prev_hash ‖ content)</c>, where content is the canonical,
/// length-prefixed encoding of every other column. docs/design/message-log.md gives the same
/// rule for auditors; a test vector there is checked by the tests, so the two cannot drift.
/// </summary>
internal static class MessageLogHash
{
    /// <summary>First byte of the content; a new encoding gets a new number.</summary>
    public const byte FormatVersion = 1;

    public const int Size = 32;

    private const uint Absent = uint.MaxValue;

    /// <summary>Strict UTF-8: a string with no UTF-8 form is refused, never silently replaced.</summary>
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The previous hash of record 1.</summary>
    public static byte[] Genesis() => new byte[Size];

    /// <summary>The log keeps "no subject" as NULL, whether the caller said null or empty.</summary>
    public static string? NormalizeSubject(string? subjectId) => string.IsNullOrEmpty(subjectId) ? null : subjectId;

    // The content is encoded into one buffer and hashed by one call: fed field by field, each of
    // the ~35 pieces was its own call into the crypto library, which cost more than the hashing
    // (issue 19's profile of the writer thread). One buffer a thread, reused: the writer and a
    // verifier each hash on their own thread.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_content;

    /// <summary>A buffer that grew past this for a large header is not kept for the next record.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    /// <summary>Hashes one record; <paramref name="hasher"/> is a SHA-256 <see cref="IncrementalHash"/>, reused by the caller.</summary>
    public static byte[] Compute(IncrementalHash hasher, ReadOnlySpan<byte> previousHash, long sequence, long atMs, MessageLogRecord record)
    {
        var content = t_content ??= new ArrayBufferWriter<byte>(4096);
        content.ResetWrittenCount();
        try
        {
            content.Write(previousHash);
            content.Write([FormatVersion]);
            WriteInt64(content, sequence);
            WriteInt64(content, atMs);
            WriteText(content, record.MessageId);
            WriteInt64(content, (long)record.Direction);
            WriteText(content, record.Client);
            WriteText(content, record.Service);
            WriteText(content, record.UserId);
            WriteText(content, NormalizeSubject(record.SubjectId));
            WriteText(content, record.Issue);
            WriteText(content, record.Status);
            WriteBlob(content, record.Header);

            // The body's bytes are committed through body_sha256 (next field, checked on its own by
            // verify); only whether it is stored goes in here. So the single writer never hashes a
            // 64 MiB body, and a removed body still breaks the chain.
            content.Write([record.Body is null ? (byte)0 : (byte)1]);
            WriteBlob(content, record.BodySha256);
            WriteBlob(content, record.Signature);
            WriteBlob(content, record.SignerCertificateSha256);
            WriteText(content, record.CorrelationId);
            hasher.AppendData(content.WrittenSpan);
            return hasher.GetHashAndReset();
        }
        finally
        {
            if (content.Capacity > KeptBufferBytes)
            {
                t_content = null;
            }
        }
    }

    private static void WriteInt64(ArrayBufferWriter<byte> content, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(content.GetSpan(8), value);
        content.Advance(8);
    }

    private static void WriteLength(ArrayBufferWriter<byte> content, uint length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(content.GetSpan(4), length);
        content.Advance(4);
    }

    private static void WriteBlob(ArrayBufferWriter<byte> content, byte[]? value)
    {
        if (value is null)
        {
            WriteLength(content, Absent);
            return;
        }

        WriteLength(content, (uint)value.Length);
        content.Write(value);
    }

    private static void WriteText(ArrayBufferWriter<byte> content, string? value)
    {
        if (value is null)
        {
            WriteLength(content, Absent);
            return;
        }

        // The length goes before the bytes: encode after a 4-byte gap, then fill it in.
        var span = content.GetSpan(4 + Utf8.GetMaxByteCount(value.Length));
        var written = Utf8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)written);
        content.Advance(4 + written);
    }
}
