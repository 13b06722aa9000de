// SPDX-License-Identifier: Apache-2.0
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
                ? RateLimitPartition.GetTokenBucketLimiter(ClientRateLimit.SourceOf(httpContext.Connection.RemoteIpAddress), _ => ClientRateLimit.PerMinute(perMinute))
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
}
