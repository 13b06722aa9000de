// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Rest;

/// <summary>
/// The path after the service code, as the provider's node appends it to its backend's base
/// URL. Checked on both nodes (the provider never trusts the client's node): a path that could
/// climb out of the base path or name another host is refused (PR-REST 4.2, SSRF).
/// </summary>
public static class RestPath
{
    /// <summary>
    /// Empty, or starting with one <c>/</c>; no <c>.</c> or <c>..</c> segment, encoded or not; no
    /// backslash, <c>#</c>, control character or space.
    /// </summary>
    public static bool IsSafe(string rawPath)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        if (rawPath.Length == 0)
        {
            return true;
        }

        if (rawPath[0] != '/' || rawPath.StartsWith("//", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in rawPath)
        {
            if (c is '\\' or '#' or <= ' ' or >= '\u007f')
            {
                return false;
            }
        }

        // Decoded as a backend would: %2e is a dot, %2f and %5c a slash or backslash to some servers.
        var decoded = Uri.UnescapeDataString(rawPath);
        return !decoded.Contains('\\', StringComparison.Ordinal)
            && !decoded.Split('/').Any(segment => segment is "." or "..");
    }
}
