// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Internal;

/// <summary>
/// The transport headers that never cross the bus on either path, REST (HTTP/1.1, X-Road's
/// PR-REST 4.3) or typed gRPC (HTTP/2): they describe one connection or one hop, so each node's
/// own HTTP stack sets them for its own hop. <c>RestHeaders</c> and <c>GrpcMetadata</c> each
/// extend this set with the names that only their path drops, and say why there.
/// </summary>
internal static class TransportHeaders
{
    /// <summary>Lower case, as HTTP/2 and gRPC spell them; the REST path compares ignoring case.</summary>
    public static readonly IReadOnlyList<string> NeverCross =
    [
        // Hop-by-hop (RFC 9110 7.6.1; RFC 9113 8.2.2 forbids them on HTTP/2).
        "connection", "keep-alive", "te", "transfer-encoding", "upgrade",

        // Set by each hop's own HTTP stack: the host it talks to, the software at either end, the
        // framing of the body it sends (content-length is recomputed when the body is re-sent).
        "host", "user-agent", "server", "content-length",

        // Also hop-by-hop (RFC 9110 7.6.1, PR-REST 4.3's filtered list): a proxy's credentials or
        // challenge, a trailer announcement, an Expect between a client and its own node. The
        // typed gRPC path once let them cross; a proxy credential would then have been signed
        // into both nodes' logs.
        "proxy-authenticate", "proxy-authorization", "trailer", "expect",
    ];
}
