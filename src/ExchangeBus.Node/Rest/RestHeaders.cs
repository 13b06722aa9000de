// SPDX-License-Identifier: Apache-2.0
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
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Host", "User-Agent", "Server",
        "Expect", "Content-Length",
        Client, Id, UserId, Issue, RepresentedParty, SecurityServer, Service, RequestId, RequestHash, Error,
    };

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
