// SPDX-License-Identifier: Apache-2.0
using System.Net;

namespace ExchangeBus.Grpc;

/// <summary>Listener settings ("ip:port"): how the options validators check them and the hosts bind them.</summary>
public static class ListenSetting
{
    /// <summary>The endpoint <paramref name="value"/> names, or null when it is null or not an IP address and port.</summary>
    public static IPEndPoint? Parse(string? value) =>
        // IPEndPoint alone would take "5500" for the address 0.0.21.124 on port 0.
        value is not null && value.Contains(':', StringComparison.Ordinal) && IPEndPoint.TryParse(value, out var endpoint) ? endpoint : null;

    /// <summary>Adds a problem naming <paramref name="key"/> unless <paramref name="value"/> is an IP address and port (null is left to the caller).</summary>
    public static void Check(ICollection<string> problems, string key, string? value)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (value is not null && Parse(value) is null)
        {
            problems.Add($"{key} '{value}' is not an IP address and port, e.g. 127.0.0.1:5500");
        }
    }
}
