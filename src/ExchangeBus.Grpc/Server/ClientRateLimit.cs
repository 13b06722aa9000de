// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

namespace ExchangeBus.Grpc;

/// <summary>
/// What every per-client rate limit of the bus shares (the registry's anonymous calls, the web
/// consoles' logins): how a client is told apart from another, and a per-minute token bucket.
/// </summary>
public static class ClientRateLimit
{
    /// <summary>IPv4 by address; IPv6 by its /64, since one host can use any address in it.</summary>
    public static string SourceOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? Convert.ToHexString(address.GetAddressBytes(), 0, 8) + "/64"
            : address.ToString();
    }

    /// <summary>
    /// A bucket of <paramref name="perMinute"/> tokens refilled evenly, but no more often than once a
    /// second (the limiter's replenishing timer is coarse): 2 a minute is a token every 30 s,
    /// 6,000 a minute 100 tokens a second. The limiter's own timer refills it: the runtime's
    /// limiters take no <see cref="TimeProvider"/>.
    /// </summary>
    public static TokenBucketRateLimiterOptions PerMinute(int perMinute)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, 60.0 / perMinute));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = Math.Max(1, (int)Math.Round(perMinute * period.TotalSeconds / 60)),
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}
