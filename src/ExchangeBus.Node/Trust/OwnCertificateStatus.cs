// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core;
using ExchangeBus.Core.TrustServices;
using Grpc.Core;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;

namespace ExchangeBus.Node.Trust;

/// <summary>
/// Keeps a fresh OCSP response for this node's signing certificate, fetched from its CA's
/// responder every OCSP refresh interval, and sent with every message so peers need not ask.
/// Without a fresh, good response the node does not sign anything peers would refuse anyway.
/// </summary>
public sealed partial class OwnCertificateStatus : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);
    private readonly NodeKeys _keys;
    private readonly GlobalConfigurationProvider _configuration;
    private readonly string _cachePath;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private volatile Snapshot? _current;

    private sealed record Snapshot(byte[] Response, DateTimeOffset ThisUpdate, OcspCertificateStatus Status);

    public OwnCertificateStatus(NodeKeys keys, GlobalConfigurationProvider configuration, NodePaths paths, TimeProvider timeProvider, ILogger<OwnCertificateStatus> logger)
    {
        _keys = keys;
        _configuration = configuration;
        _cachePath = Path.Combine(paths.DataDirectory, "signing.ocsp.der");
        _timeProvider = timeProvider;
        _logger = logger;
        LoadCache();
    }

    /// <summary>What the CA's responder last said of the signing certificate, and when; null before any answer (the console's status page).</summary>
    public (OcspCertificateStatus Status, DateTimeOffset ThisUpdate)? Latest => _current is { } snapshot ? (snapshot.Status, snapshot.ThisUpdate) : null;

    /// <summary>The response to send now, or a refusal if there is no fresh good one.</summary>
    public byte[] Current()
    {
        var snapshot = _current;
        var freshness = _configuration.Latest?.Parameters.OcspFreshness ?? OcspVerifierOptions.DefaultFreshnessLimit;
        if (snapshot is null || _timeProvider.GetUtcNow() - snapshot.ThisUpdate > freshness)
        {
            throw new NodeException(StatusCode.Unavailable, NodeErrors.OwnOcspUnavailable,
                "This node has no fresh OCSP response for its signing certificate; the CA's responder may be unreachable.");
        }

        return snapshot.Status == OcspCertificateStatus.Good
            ? snapshot.Response
            : throw new NodeException(StatusCode.FailedPrecondition, NodeErrors.OwnOcspUnavailable,
                $"This node's signing certificate is {snapshot.Status.ToString().ToLowerInvariant()}.");
    }

    /// <summary>
    /// Asks once for a response before the node takes calls (signing needs one); the loop then
    /// keeps it fresh. A responder that does not answer does not hold the start: calls answer
    /// OwnOcspUnavailable until the loop gets one.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_current is null)
        {
            // Built before the configuration's first fetch, the cache had no issuer to check against.
            LoadCache();
        }

        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // Retried by the loop.
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the request in progress to end, whatever is left of the shutdown time.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => base.StopAsync(CancellationToken.None);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None);

    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var view = _configuration.Latest;
        var issuer = view?.CertificateAuthorities.FirstOrDefault(ca =>
            ca.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(_keys.Signing.IssuerName.RawData));
        if (view is null || issuer is null)
        {
            return false;
        }

        var verifier = new OcspResponseVerifier(_timeProvider, view.OcspVerifierOptionsFor(issuer.Certificate));
        var result = await new OcspClient(_http, issuer.OcspUrl, verifier).CheckAsync(_keys.Signing, issuer.Certificate, cancellationToken).ConfigureAwait(false);
        if (!result.IsValid || result.Status is null || result.ThisUpdate is null)
        {
            Log.Failed(_logger, result.Code ?? "unknown");
            return false;
        }

        _current = new Snapshot(result.Response.ToArray(), result.ThisUpdate.Value, result.Status.Value);
        AtomicFile.WriteOwnerOnly(_cachePath, result.Response.Span);
        Log.Refreshed(_logger, result.Status.Value, result.ThisUpdate.Value);
        return true;
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var ok = false;
            try
            {
                ok = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.Failed(_logger, ex.GetType().Name);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var interval = ok ? _configuration.Latest?.Parameters.OcspRefreshInterval ?? TimeSpan.FromMinutes(20) : RetryInterval;
            try
            {
                await Task.Delay(interval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void LoadCache()
    {
        var view = _configuration.Latest;
        var issuer = view?.TrustedCertificateAuthorities.FirstOrDefault(ca => ca.SubjectName.RawData.AsSpan().SequenceEqual(_keys.Signing.IssuerName.RawData));
        if (issuer is null || !File.Exists(_cachePath))
        {
            return;
        }

        var result = new OcspResponseVerifier(_timeProvider, view!.OcspVerifierOptionsFor(issuer))
            .Verify(AtomicFile.ReadBounded(_cachePath, OcspVerifierOptions.DefaultMaxResponseBytes), _keys.Signing, issuer);
        if (result.IsValid && result.Status is { } status && result.ThisUpdate is { } thisUpdate)
        {
            _current = new Snapshot(result.Response.ToArray(), thisUpdate, status);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _http.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4100, LogLevel.Information, "OCSP status of the signing certificate: {Status}, produced {ThisUpdate}")]
        public static partial void Refreshed(ILogger logger, OcspCertificateStatus status, DateTimeOffset thisUpdate);

        [LoggerMessage(4101, LogLevel.Warning, "Fetching the OCSP status of the signing certificate failed: {Code}")]
        public static partial void Failed(ILogger logger, string code);
    }
}
