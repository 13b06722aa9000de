// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ExchangeBus.Core.GlobalConf.Internal;

/// <summary>
/// The address forms the global configuration and the anchor carry. All are printable ASCII
/// without spaces: <see cref="Uri"/> would otherwise trim or percent-encode what it is given, and
/// two texts that print alike must mean the same endpoint (hosts in IDNA "xn--" form).
/// </summary>
internal static class NetworkAddresses
{
    private const int MaxAddressLength = 2048;

    /// <summary>
    /// The registry's <c>https://host[:port]</c>, with nothing after the authority. Normalized to
    /// <c>https://host:port</c> (lower-case host, explicit port) so that equal addresses compare
    /// and fingerprint equal.
    /// </summary>
    public static bool TryParseRegistryAddress(
        string? text, [NotNullWhen(true)] out string? normalized, [NotNullWhen(false)] out string? reason)
    {
        normalized = null;
        if (!TryParseAbsolute(text, out var uri, out reason))
        {
            return false;
        }

        if (!string.Equals(uri.Scheme, Uri.UriSchemeHttps, StringComparison.Ordinal))
        {
            reason = "The registry address must use https.";
            return false;
        }

        if (!string.Equals(uri.AbsolutePath, "/", StringComparison.Ordinal) || uri.Query.Length > 0)
        {
            reason = "The registry address is https://host:port, without a path or query.";
            return false;
        }

        normalized = string.Create(CultureInfo.InvariantCulture, $"https://{uri.Host}:{uri.Port}");
        return true;
    }

    /// <summary>An http or https URL for an OCSP responder or a time-stamping authority.</summary>
    public static bool TryParseServiceUrl(
        string? text, [NotNullWhen(true)] out Uri? url, [NotNullWhen(false)] out string? reason)
    {
        if (!TryParseAbsolute(text, out url, out reason))
        {
            return false;
        }

        // Plain http is the norm for both (RFC 6960 A.1, RFC 3161 3.4): the answers are signed.
        if (!string.Equals(url.Scheme, Uri.UriSchemeHttp, StringComparison.Ordinal)
            && !string.Equals(url.Scheme, Uri.UriSchemeHttps, StringComparison.Ordinal))
        {
            reason = "The URL must use http or https.";
            url = null;
            return false;
        }

        return true;
    }

    /// <summary>A node's inter-node listener, <c>host:port</c> or <c>[v6-address]:port</c>.</summary>
    public static bool TryParseHostPort(
        string? text, [NotNullWhen(true)] out string? host, out int port, [NotNullWhen(false)] out string? reason)
    {
        host = null;
        port = 0;
        if (!IsPrintableAscii(text, out reason))
        {
            return false;
        }

        var colon = text!.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            reason = "The address must be host:port.";
            return false;
        }

        var hostPart = text[..colon];
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            || port is < 1 or > 65535)
        {
            reason = "The port must be a number from 1 to 65535.";
            port = 0;
            return false;
        }

        if (hostPart.StartsWith('[') && hostPart.EndsWith(']'))
        {
            var inner = hostPart[1..^1];
            if (!IPAddress.TryParse(inner, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                reason = "The bracketed host is not an IPv6 address.";
                port = 0;
                return false;
            }

            host = hostPart;
            return true;
        }

        if (Uri.CheckHostName(hostPart) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
        {
            reason = "The host is not a DNS name or an IPv4 address (IPv6 addresses go in brackets).";
            port = 0;
            return false;
        }

        host = hostPart;
        return true;
    }

    private static bool TryParseAbsolute(
        string? text, [NotNullWhen(true)] out Uri? uri, [NotNullWhen(false)] out string? reason)
    {
        uri = null;
        if (!IsPrintableAscii(text, out reason))
        {
            return false;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out uri) || uri.IsFile || uri.IsUnc)
        {
            reason = "The address is not an absolute URL.";
            uri = null;
            return false;
        }

        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            reason = "The address must not carry user information or a fragment.";
            uri = null;
            return false;
        }

        if (uri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
        {
            reason = "The address has no usable host.";
            uri = null;
            return false;
        }

        return true;
    }

    private static bool IsPrintableAscii([NotNullWhen(true)] string? text, [NotNullWhen(false)] out string? reason)
    {
        if (string.IsNullOrEmpty(text))
        {
            reason = "The address is empty.";
            return false;
        }

        if (text.Length > MaxAddressLength)
        {
            reason = string.Create(
                CultureInfo.InvariantCulture, $"The address is {text.Length} characters long; at most {MaxAddressLength} are allowed.");
            return false;
        }

        if (text.AsSpan().ContainsAnyExceptInRange('!', '~'))
        {
            reason = "The address has a space, a control or a non-ASCII character.";
            return false;
        }

        reason = null;
        return true;
    }
}
