// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Security.Cryptography;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// The value an envelope signature covers: <c>SHA-256(header bytes) ‖ SHA-256(body bytes)</c>,
/// 64 bytes. It is computed over the bytes exactly as transmitted, never over a
/// re-serialization, so any protobuf implementation can check it (docs/design/envelope-signature.md).
/// </summary>
public static class EnvelopeDigest
{
    /// <summary>Length of the to-be-signed value: two SHA-256 hashes.</summary>
    public const int Size = 2 * HashSize;

    private const int HashSize = SHA256.HashSizeInBytes;

    // Large enough to keep the per-call overhead small, small enough to stay off the large
    // object heap; the pool hands it back for the next body.
    private const int BufferSize = 64 * 1024;

    /// <summary>Computes the to-be-signed value of a header and a body held in memory.</summary>
    public static byte[] Compute(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var result = new byte[Size];
        SHA256.HashData(header, result.AsSpan(0, HashSize));
        SHA256.HashData(body, result.AsSpan(HashSize));
        return result;
    }

    /// <summary>
    /// Computes the to-be-signed value, reading the body from <paramref name="body"/>'s current
    /// position to its end in chunks, so a body of any size costs one small buffer.
    /// </summary>
    public static byte[] Compute(ReadOnlySpan<byte> header, Stream body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var result = new byte[Size];
        SHA256.HashData(header, result.AsSpan(0, HashSize));

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = body.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        hash.GetHashAndReset(result.AsSpan(HashSize));
        return result;
    }

    /// <summary>
    /// Computes the to-be-signed value, reading the body asynchronously from its current
    /// position to its end in chunks.
    /// </summary>
    public static async Task<byte[]> ComputeAsync(
        ReadOnlyMemory<byte> header, Stream body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var result = new byte[Size];
        SHA256.HashData(header.Span, result.AsSpan(0, HashSize));

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        hash.GetHashAndReset(result.AsSpan(HashSize));
        return result;
    }

    /// <summary>
    /// Builds the to-be-signed value from hashes computed elsewhere, e.g. a body hash taken
    /// while the body streamed to disk, or a message-log record that keeps only the body hash.
    /// </summary>
    /// <exception cref="ArgumentException">A hash is not 32 bytes.</exception>
    public static byte[] FromHashes(ReadOnlySpan<byte> headerSha256, ReadOnlySpan<byte> bodySha256)
    {
        if (headerSha256.Length != HashSize)
        {
            throw new ArgumentException($"A SHA-256 hash is {HashSize} bytes.", nameof(headerSha256));
        }

        if (bodySha256.Length != HashSize)
        {
            throw new ArgumentException($"A SHA-256 hash is {HashSize} bytes.", nameof(bodySha256));
        }

        var result = new byte[Size];
        headerSha256.CopyTo(result);
        bodySha256.CopyTo(result.AsSpan(HashSize));
        return result;
    }
}
