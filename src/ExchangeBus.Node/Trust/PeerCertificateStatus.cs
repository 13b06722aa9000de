// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Hosting;

namespace ExchangeBus.Node.Trust;

/// <summary>
/// The revocation status of a certificate another party presents to this node (an auditor's TLS
/// certificate today), asked of the issuing CA's OCSP responder as the global configuration lists
/// it, verified as this node verifies its own (<see cref="OcspClient"/>, <see cref="OcspResponseVerifier"/>
/// within the configuration's freshness limit), and kept per certificate: one request answers a
/// burst of calls. A sound answer is kept for the configuration's OCSP refresh interval, never
/// past the freshness limit or the response's nextUpdate; so a revocation reaches this node within
/// that interval. No answer (responder down, unsound response) is kept for a few seconds only.
/// </summary>
/// <remarks>
/// The TLS layer has already checked that the certificate chains to a CA of the configuration;
/// this adds what a chain cannot say. Callers decide what each status means for them.
/// </remarks>
public sealed partial class PeerCertificateStatus(
    GlobalConfigurationProvider configuration, NodeMetrics metrics, TimeProvider time, ILogger<PeerCertificateStatus> logger) : IDisposable
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(10);

    // Certificates that reach this point chain to the bus's CAs, so there are few; the bound only
    // keeps a long-running node from holding every one it ever saw.
    private const int MaxEntries = 4096;

    private readonly Dictionary<string, Task<Answer>> _answers = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>What the responder said, or null for no sound, fresh answer; and until when that holds.</summary>
    private sealed record Answer(OcspCertificateStatus? Status, DateTimeOffset Until);

    /// <summary>
    /// The certificate's status: good, revoked or unknown as its CA's responder says, or null when
    /// no sound answer could be had (responder unreachable, response unsound or stale, no CA of the
    /// configuration issued it). Waiting may be cancelled; the request itself goes on for the others.
    /// </summary>
    public async Task<OcspCertificateStatus?> CheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var key = Convert.ToHexString(SHA256.HashData(certificate.RawData));
        Task<Answer> answer;
        lock (_answers)
        {
            var now = time.GetUtcNow();
            if (!_answers.TryGetValue(key, out answer!) || answer.IsCompleted && (!answer.IsCompletedSuccessfully || answer.Result.Until <= now))
            {
                if (_answers.Count >= MaxEntries)
                {
                    Forget(now);
                }

                // A copy: the TLS connection owns (and disposes) the one it handed over.
                var copy = X509CertificateLoader.LoadCertificate(certificate.RawData);
                answer = Task.Run(() => AskAsync(copy), CancellationToken.None);
                _answers[key] = answer;
            }
        }

        return (await answer.WaitAsync(cancellationToken).ConfigureAwait(false)).Status;
    }

    private async Task<Answer> AskAsync(X509Certificate2 certificate)
    {
        using (certificate)
        {
            var view = configuration.Latest;
            var issuer = view?.CertificateAuthorities.FirstOrDefault(ca =>
                ca.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData));
            if (view is null || issuer is null)
            {
                return Failed("NoIssuer");
            }

            OcspVerificationResult result;
            try
            {
                // Only the responder the configuration lists for this CA (or the CA itself) may answer.
                var verifier = new OcspResponseVerifier(time, view.OcspVerifierOptionsFor(issuer.Certificate));
                result = await new OcspClient(_http, issuer.OcspUrl, verifier).CheckAsync(certificate, issuer.Certificate, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or CryptographicException)
            {
                return Failed(ex.GetType().Name);
            }

            if (!result.IsValid || result.Status is not { } status || result.ThisUpdate is not { } thisUpdate)
            {
                return Failed(result.Code ?? "unknown");
            }

            var until = Min(time.GetUtcNow() + view.Parameters.OcspRefreshInterval, thisUpdate + view.Parameters.OcspFreshness);
            if (result.NextUpdate is { } next)
            {
                until = Min(until, next);
            }

            metrics.CertificateStatusRequested(status.ToString().ToLowerInvariant());
            Log.Answered(logger, certificate.SerialNumber, status);
            return new Answer(status, until);
        }
    }

    private Answer Failed(string code)
    {
        metrics.CertificateStatusRequested("unavailable");
        Log.Failed(logger, code);
        return new Answer(null, time.GetUtcNow() + RetryAfterFailure);
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var (key, answer) in _answers.Where(pair => pair.Value.IsCompleted).ToList())
        {
            if (!answer.IsCompletedSuccessfully || answer.Result.Until <= now)
            {
                _answers.Remove(key);
            }
        }

        if (_answers.Count >= MaxEntries)
        {
            // All fresh: drop them all rather than grow; the next calls ask again.
            _answers.Clear();
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        // The serial names a certificate, not a person.
        [LoggerMessage(4110, LogLevel.Debug, "OCSP status of caller certificate {Serial}: {Status}")]
        public static partial void Answered(ILogger logger, string serial, OcspCertificateStatus status);

        [LoggerMessage(4111, LogLevel.Warning, "The OCSP status of a caller's certificate could not be had: {Code}")]
        public static partial void Failed(ILogger logger, string code);
    }
}
