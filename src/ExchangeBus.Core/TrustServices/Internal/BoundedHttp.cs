// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Net;

namespace ExchangeBus.Core.TrustServices.Internal;

/// <summary>Reads a trust-service reply with a hard size limit, whatever Content-Length claims.</summary>
internal static class BoundedHttp
{
    /// <summary>The body when the reply is a 200 of <paramref name="mediaType"/> within the limit; otherwise why not.</summary>
    public static async Task<(byte[] Bytes, string? Problem)> ReadReplyAsync(
        HttpResponseMessage response, string mediaType, int maxBytes, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return ([], $"HTTP {(int)response.StatusCode} from the server.");
        }

        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (!string.Equals(contentType, mediaType, StringComparison.OrdinalIgnoreCase))
        {
            return ([], $"The server answered '{contentType ?? "(no content type)"}', not {mediaType}.");
        }

        if (response.Content.Headers.ContentLength > maxBytes)
        {
            return ([], $"The reply is over {maxBytes} bytes.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            // Read one byte past the limit to tell "exactly at the limit" from "over it".
            var total = 0;
            int read;
            while (total <= maxBytes && (read = await stream.ReadAsync(buffer.AsMemory(total, maxBytes + 1 - total), cancellationToken)) > 0)
            {
                total += read;
            }

            return total > maxBytes
                ? ([], $"The reply is over {maxBytes} bytes.")
                : (buffer.AsSpan(0, total).ToArray(), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
