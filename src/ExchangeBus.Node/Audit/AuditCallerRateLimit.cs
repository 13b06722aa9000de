// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.RateLimiting;

namespace ExchangeBus.Node.Audit;

/// <summary>
/// The rate limit on the audit API for callers whose certificate is not an auditor's (a
/// neighbour node's authentication certificate, say): a small burst, then one call every few
/// seconds, per certificate. Such calls are always refused, and each costs the message log a
/// short record; past the limit they are refused before the service runs, RESOURCE_EXHAUSTED
/// with <see cref="AuditErrors.RateLimited"/> and a correlation id, and only counted in the
/// metrics. Auditor certificates are not limited here (an auditor reading a whole log makes many
/// calls); their status is checked by the service.
/// </summary>
internal sealed class AuditCallerRateLimit(NodeMetrics metrics) : IRateLimiterPolicy<string>
{
    public const string PolicyName = "audit-callers";

    /// <summary>Calls a stranger may make at once.</summary>
    public const int Burst = 10;

    /// <summary>One call more every this long.</summary>
    public static readonly TimeSpan Replenishment = TimeSpan.FromSeconds(6);

    private const string Auditors = "auditors";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => RejectAsync;

    private async ValueTask RejectAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        metrics.AuditRefused(AuditErrors.RateLimited);

        // The request is read to its end (at most one message's size) and dropped before the
        // answer: answering mid-upload resets the stream, which the caller's gRPC stack reports
        // as a bare transport error (and enough resets make Kestrel close the connection), not
        // as this refusal with its code.
        var body = context.HttpContext.Request.Body;
        var buffer = new byte[16 * 1024];
        for (var read = 0L; read <= NodeLimits.MaxMessageBytes;)
        {
            var n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        var error = RichStatus.Error(StatusCode.ResourceExhausted, AuditErrors.RateLimited,
            "Too many audit calls from a certificate that is not an auditor's; they are refused without further notice for a while.", context.HttpContext.TraceIdentifier);
        await RichStatus.AnswerAsync(context.HttpContext, error).ConfigureAwait(false);
    }

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var certificate = httpContext.Connection.ClientCertificate;
        if (certificate is not null && AuditorIdentity.TryRead(certificate) is not null)
        {
            return RateLimitPartition.GetNoLimiter(Auditors);
        }

        var key = certificate is null ? "none" : Convert.ToHexString(SHA256.HashData(certificate.RawData));
        return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = Replenishment,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }
}
