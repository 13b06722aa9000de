// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Audit;

/// <summary>
/// Gives the message log its evidence (design.md, "Message log"): every time-stamping interval it
/// signs a tree head over the records written so far (at most the configured batch of new records
/// per head), has the registry's TSA time-stamp it, keeps it in the log's file and publishes it to
/// the registry with a consistency proof from the last head the registry holds. Exchanges never
/// wait for any of this. If the oldest record without a head is older than the acceptable
/// period, <see cref="EnsureEvidenceCurrent"/> refuses new exchanges until time-stamping works
/// again, and the next round back-fills heads for everything written meanwhile. A graceful stop
/// ends with a final round (<see cref="StoppedAsync"/>), and an auditor may ask for a round at any
/// time (<see cref="StampThroughAsync"/>, the audit API's <c>StampTreeHead</c>).
/// </summary>
public sealed partial class TreeHeadStamper : BackgroundService, IHostedLifecycleService
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    /// <summary>Used before the first configuration arrives (X-Road's default).</summary>
    public static readonly TimeSpan DefaultAcceptableFailure = TimeSpan.FromHours(4);

    /// <summary>
    /// The most the final round on a graceful stop may take, and never more than what is left of
    /// the host's shutdown timeout (<c>shutdownTimeoutSeconds</c>, 30 s by default): a TSA that
    /// answers at all answers in well under a second, and one that does not must not hold the stop.
    /// </summary>
    public static readonly TimeSpan FinalStampTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What <see cref="StoppedAsync"/> logs when the final round ran out of time.</summary>
    public const string FinalStampTimedOut = "TimedOut";

    private static readonly TimeSpan OverdueRecheck = TimeSpan.FromSeconds(1);

    private readonly NodeId _node;
    private readonly NodeKeys _keys;
    private readonly GlobalConfigurationProvider _configuration;
    private readonly SqliteMessageLog _log;
    private readonly GrpcChannel _registry;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _round = new(1, 1);
    private long _stampedSize;

    // Ticks of the last moment a round left no record without a head: records written since are younger.
    private long _coveredAllAtTicks = DateTimeOffset.MinValue.UtcTicks;
    private volatile OverdueCheck? _lastCheck;

    private sealed record OverdueCheck(DateTimeOffset At, bool Overdue);

    public TreeHeadStamper(
        NodeId node, NodeKeys keys, ConfigurationAnchor anchor, GlobalConfigurationProvider configuration, SqliteMessageLog log, TimeProvider time, ILogger<TreeHeadStamper> logger)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(log);
        _node = node;
        _keys = keys;
        _configuration = configuration;
        _log = log;
        _time = time;
        _logger = logger;
        _stampedSize = log.Reader.LatestTreeHead()?.TreeSize ?? 0;
        _registry = RegistryChannel.Create(anchor, time, keys.Authentication);
    }

    /// <summary>Records 1..this are covered by a signed, time-stamped head.</summary>
    public long StampedSize => Interlocked.Read(ref _stampedSize);

    /// <summary>Waits for the round in progress to end, whatever is left of the shutdown time: the message log closes after.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => base.StopAsync(CancellationToken.None);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None);

    /// <summary>
    /// Refuses (with <paramref name="code"/>) when a record has waited for a time-stamp longer
    /// than the configuration allows. Cheap on the hot path: it reads the file only once that
    /// period has passed since a round last covered everything, and then at most once a second.
    /// </summary>
    public void EnsureEvidenceCurrent(string code)
    {
        var acceptable = _configuration.Latest?.Parameters.AcceptableTimeStampFailure ?? DefaultAcceptableFailure;
        var now = _time.GetUtcNow();
        if (now - new DateTimeOffset(Interlocked.Read(ref _coveredAllAtTicks), TimeSpan.Zero) <= acceptable)
        {
            return;
        }

        var check = _lastCheck;
        if (check is null || now - check.At >= OverdueRecheck)
        {
            var firstWaiting = _log.Reader.RecordTime(StampedSize + 1);
            check = new OverdueCheck(now, firstWaiting is { } at && now - at > acceptable);
            _lastCheck = check;
        }

        if (check.Overdue)
        {
            throw new NodeException(StatusCode.Unavailable, code,
                "This node's message log has had no time-stamp for longer than the configuration allows; exchanges resume once the time-stamping authority answers again.");
        }
    }

    /// <summary>One round: heads until every record written so far is covered, then publication.</summary>
    /// <returns>How many heads were made.</returns>
    public Task<StampRound> StampAsync(CancellationToken cancellationToken) => RoundAsync(0, cancellationToken);

    /// <summary>
    /// Makes sure records 1..<paramref name="sequence"/> are covered by a head: runs a round
    /// unless one that ended while this call waited for its turn already covered them (so that
    /// callers asking at once share one round, and one time-stamp).
    /// </summary>
    public Task<StampRound> StampThroughAsync(long sequence, CancellationToken cancellationToken) => RoundAsync(sequence, cancellationToken);

    private async Task<StampRound> RoundAsync(long unlessCoveredThrough, CancellationToken cancellationToken)
    {
        await _round.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (unlessCoveredThrough > 0 && StampedSize >= unlessCoveredThrough)
            {
                return new StampRound(0, null);
            }

            var made = 0;
            var roundStarted = _time.GetUtcNow();
            var target = _log.LastSequence();
            var view = _configuration.Latest;
            if (target > StampedSize)
            {
                if (view is null || view.TimeStampingAuthorities.Count == 0)
                {
                    Log.StampFailed(_logger, "NoTimeStampingAuthority", StampedSize + 1);
                    return new StampRound(0, TrustServiceErrors.TimeStampBadResponse);
                }

                while (StampedSize < target)
                {
                    var size = Math.Min(target, StampedSize + view.Parameters.TimeStampingMaxBatch);
                    var failure = await StampOneAsync(view, size, cancellationToken).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        Log.StampFailed(_logger, failure, StampedSize + 1);
                        return new StampRound(made, failure);
                    }

                    made++;
                }
            }

            Interlocked.Exchange(ref _coveredAllAtTicks, roundStarted.UtcTicks);
            _lastCheck = null;
            await PublishAsync(cancellationToken).ConfigureAwait(false);
            return new StampRound(made, null);
        }
        finally
        {
            _round.Release();
        }
    }

    private async Task<string?> StampOneAsync(GlobalConfigurationView view, long size, CancellationToken cancellationToken)
    {
        var root = _log.Reader.TreeRoot(size);
        var now = _time.GetUtcNow();
        var head = new TreeHead
        {
            Node = _node.ToString(),
            TreeSize = (ulong)size,
            RootHash = ByteString.CopyFrom(root),
            CreatedAt = Timestamp.FromDateTimeOffset(now),
        }.ToByteArray();
        var signature = _keys.Signer.SignTreeHead(head);
        string? failure = null;
        foreach (var tsa in view.TimeStampingAuthorities)
        {
            using var verifier = new TimeStampTokenVerifier([tsa.Certificate], [], _time);
            TimeStampVerificationResult result;
            try
            {
                result = await new TimeStampClient(_http, tsa.Url, verifier).RequestAsync(SHA256.HashData(head), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failure = "TimeStampingAuthorityUnreachable";
                continue;
            }

            if (!result.IsValid)
            {
                failure = result.Code;
                continue;
            }

            _log.AddTreeHead(new StoredTreeHead(size, root, now, head, signature, _keys.SigningCertificateDer, result.Token.ToArray(), null));
            Interlocked.Exchange(ref _stampedSize, size);
            Log.Stamped(_logger, size, tsa.Name);
            return null;
        }

        return failure ?? "NoTimeStampingAuthority";
    }

    /// <summary>Sends the heads the registry does not hold yet, oldest first; stops at the first refusal.</summary>
    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        foreach (var head in _log.Reader.UnsubmittedTreeHeads(100))
        {
            var previous = _log.Reader.LatestSubmittedTreeHead();
            var request = new SubmitTreeHeadRequest
            {
                Head = new SignedTreeHead
                {
                    TreeHead = ByteString.CopyFrom(head.TreeHead),
                    Signature = ByteString.CopyFrom(head.Signature),
                    SignerCertificate = ByteString.CopyFrom(head.SignerCertificate),
                    TimeStampToken = ByteString.CopyFrom(head.TimeStampToken),
                },
                PreviousSize = (ulong)(previous?.TreeSize ?? 0),
            };
            if (previous is not null)
            {
                request.ConsistencyProof.AddRange(_log.Reader.ConsistencyProof(previous.TreeSize, head.TreeSize).Select(ByteString.CopyFrom));
            }

            try
            {
                await new RegistryService.RegistryServiceClient(_registry).SubmitTreeHeadAsync(request, new CallOptions(deadline: _time.GetUtcNow().AddSeconds(30).UtcDateTime, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                Log.PublishFailed(_logger, head.TreeSize, ex.ErrorCode ?? ex.StatusCode.ToString());
                return;
            }

            _log.MarkTreeHeadSubmitted(head.TreeSize, _time.GetUtcNow());
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var ok = false;
            try
            {
                ok = (await StampAsync(cancellationToken).ConfigureAwait(false)).Failure is null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is MessageLogIntegrityException or Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                Log.StampFailed(_logger, ex.GetType().Name, StampedSize + 1);
            }

            var interval = _configuration.Latest?.Parameters.TimeStampingInterval ?? TimeSpan.FromSeconds(60);
            try
            {
                await Task.Delay(ok || interval < RetryInterval ? interval : RetryInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The final round of a graceful stop, so that no record is left covered by the hash chain
    /// alone until the next start. Why here: the host (Microsoft.Extensions.Hosting's Host.StopAsync)
    /// runs every hosted service's StoppingAsync, cancels ApplicationStopping, runs every StopAsync
    /// in the reverse order of registration — Kestrel's (registered last by WebApplication) first,
    /// which waits for the calls in flight, each answered only once its records are committed;
    /// then the node's loops, the delivery worker and the file sweep among them, which write
    /// file-sync records — and only then every StoppedAsync. The message log is closed after all
    /// of that, when the host is disposed with its container. So at this point nothing writes to
    /// the log any more, and it is still open, whatever order the services are registered in.
    /// <paramref name="cancellationToken"/> is the host's, cancelled when its shutdown timeout
    /// (<c>shutdownTimeoutSeconds</c>) has passed since the stop began; the round gets what is left
    /// of it, at most <see cref="FinalStampTimeout"/>. If it fails the node stops anyway (the
    /// failure is logged) and the first round of the next start back-fills, as after a crash.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        // A host whose start failed before this service started stops it too: it has nothing to close.
        if (ExecuteTask is null)
        {
            return;
        }

        long last;
        try
        {
            last = _log.LastSequence();
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            Log.StampFailed(_logger, ex.GetType().Name, StampedSize + 1);
            return;
        }

        if (last <= StampedSize)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(FinalStampTimeout, _time);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        string? failure;
        try
        {
            failure = (await StampThroughAsync(last, bound.Token).ConfigureAwait(false)).Failure;
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            failure = FinalStampTimedOut;
        }
        catch (Exception ex) when (ex is MessageLogIntegrityException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            failure = ex.GetType().Name;
        }

        // A round cut short while publishing has still stored its heads: the stop's work is done.
        if (StampedSize < last)
        {
            Log.FinalStampFailed(_logger, failure ?? FinalStampTimedOut, StampedSize + 1, last);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _registry.Dispose();
        _http.Dispose();
        _round.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4600, LogLevel.Information, "Message log tree head over {Size} records time-stamped by {Tsa}")]
        public static partial void Stamped(ILogger logger, long size, string tsa);

        [LoggerMessage(4601, LogLevel.Warning, "Time-stamping the message log failed ({Code}); record {FirstWaiting} and later wait for a time-stamp")]
        public static partial void StampFailed(ILogger logger, string code, long firstWaiting);

        [LoggerMessage(4602, LogLevel.Warning, "Publishing the tree head over {Size} records to the registry failed ({Code}); retried next round")]
        public static partial void PublishFailed(ILogger logger, long size, string code);

        [LoggerMessage(4603, LogLevel.Warning, "The final tree head on stopping failed ({Code}); records {FirstWaiting} to {Last} are covered by the hash chain only until the next start time-stamps them")]
        public static partial void FinalStampFailed(ILogger logger, string code, long firstWaiting, long last);
    }
}

/// <summary>What one round did: heads made, and the code of the failure that stopped it (null when it covered everything).</summary>
public sealed record StampRound(int HeadsMade, string? Failure);
