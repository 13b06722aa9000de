// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// Reads an r1 request, <c>{METHOD} /r1/{instance}/{class}/{member}/{subsystem}/{serviceCode}[/{path}][?{query}]</c>
/// with <c>X-Road-Client</c> (PR-REST 4.1-4.3), into our identifiers. Strict, as 4.2 asks: each
/// identifier part is percent-decoded on its own and must then be a valid part (4.8); the target
/// is length-capped before anything else is looked at; nothing the caller sent is quoted back
/// beyond what the identifier parser's bounded messages quote.
/// </summary>
public static class RestRequestParser
{
    /// <summary>The longest request target taken (4.2 lets a server cap it; clients commonly stop near 2,000).</summary>
    public const int MaxTargetLength = 4096;

    /// <summary>An <c>X-Road-Id</c> becomes signed metadata; as long as our own message ids may be.</summary>
    public const int MaxXRoadIdLength = 128;

    private const string Prefix = "/r1/";

    private static readonly SearchValues<char> IdentifierCharacters = SearchValues.Create(IdentifierLimits.AllowedCharacters);

    // RFC 9110 token characters, the only ones a method may have.
    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static bool TryParse(
        string method,
        string rawTarget,
        IHeaderDictionary headers,
        [NotNullWhen(true)] out RestRequest? request,
        [NotNullWhen(false)] out RestRefusal? refusal)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(rawTarget);
        ArgumentNullException.ThrowIfNull(headers);
        request = null;
        SubsystemId? client = null;
        string? xroadId = null, representedParty = null;
        refusal = Target(method, rawTarget, out var service, out var path, out var query);
        refusal ??= Client(headers, out client);
        refusal ??= Optional(headers, out xroadId, out representedParty);
        if (refusal is not null)
        {
            return false;
        }

        request = new RestRequest(
            method, service!, client!, path!, query!, xroadId,
            Last(headers, RestHeaders.UserId) ?? "", Last(headers, RestHeaders.Issue) ?? "",
            representedParty, Forwardable(headers));
        return true;
    }

    private static RestRefusal? Target(string method, string rawTarget, out ServiceId? service, out string? path, out string? query)
    {
        service = null;
        path = query = null;
        if (!IsMethod(method))
        {
            return BadRequest(RestReasons.InvalidMethod, "The request method is not an HTTP token.");
        }

        if (rawTarget.Length > MaxTargetLength)
        {
            return BadRequest(RestReasons.UriTooLong, $"The request target is longer than {MaxTargetLength} characters; send large data in the body.");
        }

        var queryStart = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = queryStart < 0 ? rawTarget : rawTarget[..queryStart];
        query = queryStart < 0 ? "" : rawTarget[(queryStart + 1)..];
        if (!rawPath.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return BadRequest(RestReasons.NotR1, "The path must start with /r1/, the X-Road Message Protocol for REST version 1.");
        }

        // Five identifier parts, then whatever remains is the backend's path.
        var parts = rawPath[Prefix.Length..].Split('/', 6);
        if (parts.Length < 5)
        {
            return BadRequest(RestReasons.MissingServiceId, "The path must name the service: /r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/path].");
        }

        if (!TryIdentifier(parts.AsSpan(0, 5), out var text, out var message))
        {
            return Invalid(RestReasons.InvalidService, message);
        }

        if (!ServiceId.TryParse(text, out service, out var error))
        {
            return Invalid(RestReasons.InvalidService, error.Message);
        }

        path = parts.Length == 6 ? "/" + parts[5] : "";
        return RestPath.IsSafe(path)
            ? null
            : BadRequest(RestReasons.InvalidPath, "The path after the service code must not contain '.' or '..' segments, backslashes or control characters.");
    }

    /// <summary>Whether a method is an RFC 9110 token (checked on both nodes).</summary>
    internal static bool IsMethod(string method) => method.Length > 0 && !method.AsSpan().ContainsAnyExcept(TokenCharacters);

    private static RestRefusal? Client(IHeaderDictionary headers, out SubsystemId? client)
    {
        client = null;

        // 4.3: a client must not send the header twice; if it does, the last one counts.
        var value = Last(headers, RestHeaders.Client);
        if (string.IsNullOrWhiteSpace(value))
        {
            return BadRequest(RestReasons.MissingClient, $"The {RestHeaders.Client} header must name the calling subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM.");
        }

        if (!TryIdentifier(value.Split('/'), out var text, out var message))
        {
            return Invalid(RestReasons.InvalidClient, $"{RestHeaders.Client}: {message}");
        }

        return SubsystemId.TryParse(text, out client, out var error) ? null : Invalid(RestReasons.InvalidClient, $"{RestHeaders.Client}: {error.Message}");
    }

    private static RestRefusal? Optional(IHeaderDictionary headers, out string? xroadId, out string? representedParty)
    {
        representedParty = null;
        // An empty X-Road-Id is one not sent: the node's message id stands for it.
        xroadId = Last(headers, RestHeaders.Id) is { Length: > 0 } id ? id : null;
        if (xroadId is not null && (xroadId.Length > MaxXRoadIdLength || xroadId.Any(c => c is <= ' ' or > '~')))
        {
            return BadRequest(RestReasons.InvalidHeader, $"{RestHeaders.Id} must be 1 to {MaxXRoadIdLength} visible ASCII characters (a UUID is recommended).");
        }

        if (Last(headers, RestHeaders.RepresentedParty) is { } party)
        {
            // [CLASS/]CODE (4.3), each part under the identifier rules.
            var parts = party.Split('/').Select(Uri.UnescapeDataString).ToArray();
            if (parts.Length > 2 || parts.Any(p => p.Length is 0 or > IdentifierLimits.MaxPartLength || p.AsSpan().ContainsAnyExcept(IdentifierCharacters)))
            {
                return BadRequest(RestReasons.InvalidHeader, $"{RestHeaders.RepresentedParty} must be [CLASS/]CODE, each part of A-Z a-z 0-9 ' ( ) + , - . = ?.");
            }

            representedParty = string.Join('/', parts);
        }

        return null;
    }

    /// <summary>
    /// Percent-decodes each part on its own (4.2) and joins them for our parsers; a part that
    /// decodes to a slash would shift the parts, so it is refused here (4.8 forbids it anyway).
    /// </summary>
    private static bool TryIdentifier(ReadOnlySpan<string> parts, out string text, [NotNullWhen(false)] out string? message)
    {
        var decoded = new string[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            decoded[i] = Uri.UnescapeDataString(parts[i]);
            if (decoded[i].Contains('/', StringComparison.Ordinal))
            {
                text = "";
                message = "An identifier part contains '/', which identifiers may not hold (percent-encode each part on its own).";
                return false;
            }
        }

        text = string.Join('/', decoded);
        message = null;
        return true;
    }

    /// <summary>The headers that cross the bus, lower-case names, repeated values joined; <c>Accept</c> defaulted (4.3).</summary>
    private static List<KeyValuePair<string, string>> Forwardable(IHeaderDictionary headers)
    {
        var forwarded = headers
            .Where(h => RestHeaders.IsForwardable(h.Key))
            .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), string.Join(RestMetadata.ValueSeparator, h.Value.ToArray())))
            .ToList();
        if (!headers.ContainsKey("Accept"))
        {
            forwarded.Add(KeyValuePair.Create("accept", RestHeaders.DefaultAccept));
        }

        forwarded.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return forwarded;
    }

    private static string? Last(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    private static RestRefusal BadRequest(string reason, string message) => new(NodeErrors.BadRequest, reason, message);

    private static RestRefusal Invalid(string reason, string message) => new(NodeErrors.InvalidIdentifier, reason, message);
}
