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

    /// <summary>Hashes one record; <paramref name="hasher"/> is a SHA-256 <see cref="IncrementalHash"/>, reused by the caller.</summary>
    public static byte[] Compute(IncrementalHash hasher, ReadOnlySpan<byte> previousHash, long sequence, long atMs, MessageLogRecord record)
    {
        hasher.AppendData(previousHash);
        ReadOnlySpan<byte> version = [FormatVersion];
        hasher.AppendData(version);
        AppendInt64(hasher, sequence);
        AppendInt64(hasher, atMs);
        AppendText(hasher, record.MessageId);
        AppendInt64(hasher, (long)record.Direction);
        AppendText(hasher, record.Client);
        AppendText(hasher, record.Service);
        AppendText(hasher, record.UserId);
        AppendText(hasher, NormalizeSubject(record.SubjectId));
        AppendText(hasher, record.Issue);
        AppendText(hasher, record.Status);
        AppendBlob(hasher, record.Header);

        // The body's bytes are committed through body_sha256 (next field, checked on its own by
        // verify); only whether it is stored goes in here. So the single writer never hashes a
        // 64 MiB body, and a removed body still breaks the chain.
        ReadOnlySpan<byte> bodyStored = [record.Body is null ? (byte)0 : (byte)1];
        hasher.AppendData(bodyStored);
        AppendBlob(hasher, record.BodySha256);
        AppendBlob(hasher, record.Signature);
        AppendBlob(hasher, record.SignerCertificateSha256);
        AppendText(hasher, record.CorrelationId);
        return hasher.GetHashAndReset();
    }

    private static void AppendInt64(IncrementalHash hasher, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buffer, value);
        hasher.AppendData(buffer);
    }

    private static void AppendLength(IncrementalHash hasher, uint length)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, length);
        hasher.AppendData(buffer);
    }

    private static void AppendBlob(IncrementalHash hasher, byte[]? value)
    {
        if (value is null)
        {
            AppendLength(hasher, Absent);
            return;
        }

        AppendLength(hasher, (uint)value.Length);
        hasher.AppendData(value);
    }

    private static void AppendText(IncrementalHash hasher, string? value)
    {
        if (value is null)
        {
            AppendLength(hasher, Absent);
            return;
        }

        var length = Utf8.GetByteCount(value);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Utf8.GetBytes(value, buffer);
            AppendLength(hasher, (uint)written);
            hasher.AppendData(buffer, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
