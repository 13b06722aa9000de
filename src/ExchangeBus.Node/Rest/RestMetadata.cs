// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Rest;

/// <summary>
/// The keys under which a REST exchange's parts travel in the signed header's metadata. Both
/// nodes and the audit tools read them, so they never change once published.
/// </summary>
public static class RestMetadata
{
    public const string Method = "rest.method";
    public const string Path = "rest.path";
    public const string Query = "rest.query";
    public const string Status = "rest.status";
    public const string XRoadId = "rest.x-road-id";
    public const string RepresentedParty = "rest.represented-party";

    /// <summary>
    /// A streamed body's declared length (the caller's or the backend's <c>Content-Length</c>),
    /// when it had one: the far side refuses one over its cap before reading, and passes it on.
    /// </summary>
    public const string ContentLength = "rest.content-length";

    /// <summary>Followed by the header's lower-case name; several values are joined by <see cref="ValueSeparator"/>.</summary>
    public const string HeaderPrefix = "rest.h.";

    /// <summary>A line feed: no header value can hold one, so repeated headers (Set-Cookie) come apart again unchanged.</summary>
    public const char ValueSeparator = '\n';
}
