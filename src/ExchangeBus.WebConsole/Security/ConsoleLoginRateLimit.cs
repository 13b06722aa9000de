// SPDX-License-Identifier: Apache-2.0
using System.Threading.RateLimiting;
using ExchangeBus.Grpc;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.WebConsole.Security;

/// <summary>
/// ASP.NET Core's rate limiter on the login form's POSTs: each costs a PBKDF2 hash, and lockout
/// only protects one account at a time. A token bucket per client address
/// (<see cref="ConsoleOptions.LoginAttemptsPerMinute"/>) chained to one for everyone
/// (<see cref="ConsoleOptions.LoginAttemptsPerMinuteTotal"/>). Past either, the POST is
/// answered 429 <see cref="ConsoleErrors.TooManyAttempts"/> in the person's language before
/// the form is read. Such a refusal is logged, not written to the audit log: no account name is
/// known before the form is read, and an entry per refusal would hand the flood the very
/// database and hash-chain work the limit exists to bound.
/// </summary>
internal sealed class ConsoleLoginRateLimit : IRateLimiterPolicy<string>
{
    public const string Policy = "console-login";

    private readonly int _perAddress;
    private readonly TokenBucketRateLimiter _everyone;
    private readonly ILogger<ConsoleLoginRateLimit> _logger;

    public ConsoleLoginRateLimit(ConsoleOptions options, ILogger<ConsoleLoginRateLimit> logger)
    {
        _perAddress = options.LoginAttemptsPerMinute;
        _everyone = new TokenBucketRateLimiter(ClientRateLimit.PerMinute(options.LoginAttemptsPerMinuteTotal));
        _logger = logger;
    }

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => (rejected, _) =>
    {
        var http = rejected.HttpContext;
        ConsoleLog.LoginRateLimited(_logger, ConsoleErrors.TooManyAttempts, http.TraceIdentifier);
        if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new ValueTask(ConsoleErrorPage.WriteAsync(http, StatusCodes.Status429TooManyRequests, ConsoleErrors.TooManyAttempts));
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);

        // Showing the form costs nothing; only a submitted attempt is counted.
        if (!HttpMethods.IsPost(httpContext.Request.Method))
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        // The chained limiter does not own (or dispose) the shared bucket when an idle address's one is dropped.
        return RateLimitPartition.Get(ClientRateLimit.SourceOf(httpContext.Connection.RemoteIpAddress),
            _ => RateLimiter.CreateChained(new TokenBucketRateLimiter(ClientRateLimit.PerMinute(_perAddress)), _everyone));
    }
}
