// SPDX-License-Identifier: Apache-2.0
using System.Buffers;

namespace ExchangeBus.Core.IO;

/// <summary>
/// Reads an HTTP body whole, but never more than a cap: a declared length over the cap is
/// refused before a byte is read, and an undeclared one is read up to one byte past the cap and
/// then abandoned, so an oversized body costs at most the cap in memory.
/// </summary>
/// <remarks>
/// One copy for every capped body read: the node's REST endpoint and HTTP backends and the
/// registry's trust-service endpoints. It knows only streams (Core has no ASP.NET Core); each
/// caller maps "too long" (null) to its own error and does its own server-side limits.
/// </remarks>
public static class BoundedBody
{
    /// <summary>The body, or null when it is longer than <paramref name="maxBytes"/> (the rest is left unread).</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (declaredLength > maxBytes)
        {
            return null;
        }

        // Rented in steps rather than at the cap: most bodies are small and the cap is megabytes.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min((declaredLength ?? 16 * 1024) + 1, maxBytes + 1L));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, maxBytes + 1) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.AsSpan(0, length).ToArray();
                }

                length += read;
                if (length > maxBytes)
                {
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
