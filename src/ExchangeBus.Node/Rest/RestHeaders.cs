// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Internal;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// The header names of X-Road's REST protocol (PR-REST 4.3) and which headers cross the bus.
/// One rule for both directions: what a client sends its node and what a backend answers.
/// </summary>
public static class RestHeaders
{
    public const string Client = "X-Road-Client";
    public const string Id = "X-Road-Id";
    public const string UserId = "X-Road-UserId";
    public const string Issue = "X-Road-Issue";
    public const string RepresentedParty = "X-Road-Represented-Party";
    public const string SecurityServer = "X-Road-Security-Server";
    public const string Service = "X-Road-Service";
    public const string RequestId = "X-Road-Request-Id";
    public const string RequestHash = "X-Road-Request-Hash";
    public const string Error = "X-Road-Error";

    /// <summary>What 4.3 says a missing <c>Accept</c> means.</summary>
    public const string DefaultAccept = "application/json";

    // PR-REST 4.3 "Filtered headers" (hop-by-hop; those that leak the origin host) and
    // "Specially handled headers" (Expect, Content-Length), plus the X-Road headers the
    // nodes themselves set: a caller or backend must not be able to forge or steer them.
    // The transport headers both paths drop are TransportHeaders'; the rest are REST's own:
    // - The X-Road headers, by name: GrpcMetadata drops the whole x-road-* prefix instead.
    // What only GrpcMetadata drops (Proxy-Connection, Content-Type, Content-Encoding,
    // Accept-Encoding, Date, Authorization, Cookie, Set-Cookie) crosses here because 4.3 does not
    // filter it: a REST body keeps its media type and coding, an API's own credentials reach it.
    private static readonly HashSet<string> NotForwarded = new(
        [
            .. TransportHeaders.NeverCross,
            Client, Id, UserId, Issue, RepresentedParty, SecurityServer, Service, RequestId, RequestHash, Error,
        ],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Whether a header passes through the bus unmodified: everything but the filtered and
    /// X-Road headers, so Accept, Content-Type, Authorization, cache and user-defined headers do
    /// (4.3). HTTP/2 pseudo-headers never do: they are the method and path.
    /// </summary>
    public static bool IsForwardable(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Length > 0 && name[0] != ':' && !NotForwarded.Contains(name);
    }
}
