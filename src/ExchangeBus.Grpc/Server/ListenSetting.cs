// SPDX-License-Identifier: Apache-2.0
using System.Net;

namespace ExchangeBus.Grpc;

/// <summary>Listener settings ("ip:port") as the options validators check them.</summary>
public static class ListenSetting
{
    /// <summary>Adds a problem naming <paramref name="key"/> unless <paramref name="value"/> is an IP address and port (null is left to the caller).</summary>
    public static void Check(ICollection<string> problems, string key, string? value)
    {
        ArgumentNullException.ThrowIfNull(problems);
        // IPEndPoint alone would take "5500" for the address 0.0.21.124 on port 0.
        if (value is not null && !(value.Contains(':', StringComparison.Ordinal) && IPEndPoint.TryParse(value, out _)))
        {
            problems.Add($"{key} '{value}' is not an IP address and port, e.g. 127.0.0.1:5500");
        }
    }
}
