// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Management;
using Grpc.Core;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// ASP.NET Core's rate limiter on the calls anyone can make that could write: <c>SubmitRegistration</c>
/// (with or without a certificate: a node registers with none) and management calls without a
/// client certificate. One token bucket per source address (IPv6 by /64, what one host is
/// usually given), <see cref="RegistryServerOptions.AnonymousCallsPerMinute"/>. A call over the
/// limit is answered RESOURCE_EXHAUSTED <c>Registry.RateLimited</c> before its message is read.
/// Configuration polling, registration status, tree heads and administrators are not limited.
/// </summary>
internal static class RegistryRateLimiting
{
    public const string Policy = "registry-anonymous";

    private static readonly string SubmitRegistrationPath = $"/{RegistryService.Descriptor.FullName}/SubmitRegistration";
    private static readonly string ManagementPrefix = $"/{RegistryManagement.Descriptor.FullName}/";

    public static void AddRegistryRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RegistryServerOptions>, RegistryMetrics, ILogger<RegistryServer>>((limiter, registry, metrics, logger) =>
        {
            var perMinute = registry.Value.AnonymousCallsPerMinute;
            limiter.AddPolicy(Policy, httpContext => IsLimited(httpContext)
                ? RateLimitPartition.GetTokenBucketLimiter(Source(httpContext.Connection.RemoteIpAddress), _ => Bucket(perMinute))
                : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = (rejected, _) =>
            {
                var http = rejected.HttpContext;
                metrics.AnonymousRefused(RegistryErrors.RateLimited);
                RegistryLog.RateLimited(logger, http.Request.Path, http.TraceIdentifier);
                return new ValueTask(RichStatus.AnswerAsync(http, RichStatus.Error(StatusCode.ResourceExhausted, RegistryErrors.RateLimited,
                    "Too many calls without a certificate from this address; try again later.", http.TraceIdentifier)));
            };
        });
    }

    private static bool IsLimited(HttpContext httpContext)
    {
        var path = httpContext.Request.Path.Value ?? string.Empty;
        return string.Equals(path, SubmitRegistrationPath, StringComparison.Ordinal)
            || (httpContext.Connection.ClientCertificate is null && path.StartsWith(ManagementPrefix, StringComparison.Ordinal));
    }

    /// <summary>IPv4 by address; IPv6 by its /64, since one host can use any address in it.</summary>
    internal static string Source(IPAddress? address)
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
    /// 6,000 a minute 100 tokens a second.
    /// </summary>
    private static TokenBucketRateLimiterOptions Bucket(int perMinute)
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
