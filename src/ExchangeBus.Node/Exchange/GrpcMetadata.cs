// SPDX-License-Identifier: Apache-2.0
using System.Collections.Frozen;
using ExchangeBus.Node.Internal;
using Grpc.Core;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// Which of a typed call's own gRPC metadata crosses the bus (docs/design/agency-protocols.md,
/// "Metadata"): the caller's request headers to the backend, the backend's response headers and
/// trailers to the caller. A header travels signed in the message header's <c>metadata</c> under
/// <see cref="Prefix"/> (apart from REST's <c>rest.*</c>); each node filters what it sends and
/// what it receives, so a provider node that signed a key the caller's library would refuse
/// cannot break the call, and neither side can set the bus's own headers or the transport's.
/// </summary>
internal static class GrpcMetadata
{
    /// <summary>The signed metadata key of gRPC header <c>k</c> is <c>grpc.md.k</c>.</summary>
    public const string Prefix = "grpc.md.";

    private const string StatusDetailsKey = "grpc-status-details-bin";

    // HTTP/2 connection and transport headers (RFC 9113 8.2.2), those the HTTP and gRPC libraries set
    // themselves, and credentials, which would be kept in both nodes' logs. The transport headers
    // both paths drop are TransportHeaders'; the rest are gRPC's own (REST forwards them, PR-REST 4.3):
    // - proxy-connection: connection-specific by RFC 9113 8.2.2 (HTTP/1.1 had no standard for it,
    //   and 4.3 does not filter it).
    // - content-type, content-encoding, accept-encoding, date: set by the gRPC and HTTP/2 libraries
    //   on every call (application/grpc; message compression is grpc-encoding's, already dropped
    //   as grpc-*); on REST they describe the body the backend gets, so they pass.
    // - authorization, cookie, set-cookie: a gRPC caller's credentials are for its own node, not
    //   for both nodes' logs; REST forwards them because 4.3 does (an API's own credentials).
    // Keys here are lower case, as Crosses only lets lower-case keys through.
    private static readonly FrozenSet<string> Reserved = FrozenSet.Create(
        StringComparer.Ordinal,
        [
            .. TransportHeaders.NeverCross,
            "proxy-connection",
            "content-type", "content-encoding", "accept-encoding", "date",
            "authorization", "cookie", "set-cookie",
        ]);

    /// <summary>
    /// Whether header <paramref name="key"/> may cross: a valid gRPC key (lower-case letters,
    /// digits, '-', '_', '.'; Grpc.Core refuses others), not reserved, not the bus's own
    /// (<c>x-road-*</c>, <c>x-xbus-*</c>) nor gRPC's (<c>grpc-*</c>). Binary (<c>-bin</c>) keys cross too.
    /// </summary>
    public static bool Crosses(string key) =>
        key.Length > 0
        && key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.')
        && !key.StartsWith("grpc-", StringComparison.Ordinal)
        && !key.StartsWith("x-road-", StringComparison.Ordinal)
        && !key.StartsWith("x-xbus-", StringComparison.Ordinal)
        && !Reserved.Contains(key);

    /// <summary>
    /// Whether a trailer may cross: as <see cref="Crosses"/>, and gRPC's rich error details
    /// (<c>grpc-status-details-bin</c>), which are the backend's own answer.
    /// </summary>
    public static bool TrailerCrosses(string key) =>
        string.Equals(key, StatusDetailsKey, StringComparison.Ordinal) || Crosses(key);

    /// <summary>A value HTTP/2 carries as a gRPC ASCII header: printable ASCII.</summary>
    public static bool IsPrintableAscii(string value) => value.All(c => c is >= ' ' and <= '~');

    /// <summary>
    /// Adds the headers of <paramref name="headers"/> that may cross to <paramref name="signed"/>
    /// under <see cref="Prefix"/>; a key sent twice keeps its values comma-joined, as HTTP combines them.
    /// The signed map holds text, so a binary (<c>-bin</c>) value is signed as its base64 (RFC 4648,
    /// padded), which is how HTTP/2 carries it too.
    /// </summary>
    public static void ToSigned(Metadata headers, IDictionary<string, string> signed)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(signed);
        foreach (var entry in headers)
        {
            if (!Crosses(entry.Key) || (!entry.IsBinary && !IsPrintableAscii(entry.Value)))
            {
                continue;
            }

            var key = Prefix + entry.Key;
            var value = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
            signed[key] = signed.TryGetValue(key, out var earlier) ? $"{earlier}, {value}" : value;
        }
    }

    /// <summary>
    /// The headers signed under <see cref="Prefix"/> in <paramref name="signed"/>, filtered again: the
    /// other node's word is not trusted. A binary key's comma-separated base64 values become one
    /// entry each; a binary key whose value is not base64 is dropped.
    /// </summary>
    public static Metadata FromSigned(IEnumerable<KeyValuePair<string, string>> signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var headers = new Metadata();
        foreach (var (key, value) in signed)
        {
            if (!key.StartsWith(Prefix, StringComparison.Ordinal) || !Crosses(key[Prefix.Length..]))
            {
                continue;
            }

            var name = key[Prefix.Length..];
            if (!name.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.Ordinal))
            {
                if (IsPrintableAscii(value))
                {
                    headers.Add(name, value);
                }
            }
            else if (Base64Values(value) is { } values)
            {
                foreach (var bytes in values)
                {
                    headers.Add(name, bytes);
                }
            }
        }

        return headers;
    }

    /// <summary>The values of a signed binary header (base64, comma-separated), or null if one is not base64.</summary>
    private static List<byte[]>? Base64Values(string value)
    {
        var values = new List<byte[]>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var bytes = new byte[part.Length * 3 / 4];
            if (!Convert.TryFromBase64String(part, bytes, out var written))
            {
                return null;
            }

            values.Add(bytes[..written]);
        }

        return values;
    }
}
