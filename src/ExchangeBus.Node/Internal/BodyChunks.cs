// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Internal;

/// <summary>
/// A REST body cut into the links of a stream (docs/design/rest-protocol.md, "Bodies"): read by
/// the client's node from the agency's request and by the provider's node from the backend's
/// answer, the same way on both.
/// </summary>
internal static class BodyChunks
{
    /// <summary>The next chunk of a body (<see cref="NodeLimits.RestChunkBytes"/>, fewer only at its end; empty at the end), so chunking never depends on timing.</summary>
    public static async Task<byte[]> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        var chunk = new byte[NodeLimits.RestChunkBytes];
        var length = await body.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return length == chunk.Length ? chunk : chunk[..length];
    }
}
