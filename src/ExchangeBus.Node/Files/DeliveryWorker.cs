// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Google.Protobuf;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Exchange;

namespace ExchangeBus.Node.Files;

/// <summary>
/// Pushes each outbox entry to its recipient's node: asks how much it holds, pushes the rest in
/// chunks, verifies the signed receipt and keeps it. A transient failure is retried with
/// exponential back-off up to a limit; a coded refusal fails the delivery with that code. The
/// state is in <c>files.db</c>, so a restart carries on where the last run stopped.
/// </summary>
public sealed partial class DeliveryWorker(
    FileSync files, GlobalConfigurationProvider configuration, OwnCertificateStatus ownStatus, EnvelopeVerification verification, PeerChannels peers,
    TimeProvider time, ILogger<DeliveryWorker> logger) : BackgroundService
{
    private static readonly EnvelopeVerification.Codes ReceiptCodes = new(
        FileErrors.InvalidReceipt, FileErrors.InvalidReceipt, FileErrors.InvalidReceipt, FileErrors.InvalidReceipt,
        FileErrors.InvalidReceipt, FileErrors.InvalidReceipt, FileErrors.InvalidReceipt);

    // Files are pushed in full chunks; a deadline would have to grow with the file, so a stuck
    // push is noticed by the transport (the connection), not by a timer.
    private static readonly TimeSpan OfferDeadline = TimeSpan.FromSeconds(30);

    // While a delivery runs its row is due again only after this lease, so the loop does not
    // pick it up twice or spin on it; a restart releases every lease (see Start).
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    // How many due entries per delivery slot the loop looks at beyond the running ones: files are
    // usually sent to a few subsystems, whose deliveries wait for each other on one recipient node.
    private const int HeldBackPerSlot = 4;

    private readonly FileSync _files = files;
    private readonly ILogger<DeliveryWorker> _logger = logger;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string, string), byte> _active = new();

    // (sender, file id, recipient member) of each push running: a recipient node keeps one
    // resumable part per sender, file and content, whichever of its subsystems the file is for,
    // and refuses a second push of it while one runs (Files.TransferInProgress). So the
    // deliveries of one file to several subsystems of one member go one after the other instead
    // of colliding and being retried seconds later (three recipients on one node made that most
    // first attempts of 'xbus bench files').
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string, string), byte> _pushing = new();

    /// <summary>
    /// First the file-sync records a crash kept out of the message log go into it; then deliveries
    /// this node was running when it stopped (or crashed) are due now, not at the end of their lease.
    /// Both before the node takes calls.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await _files.RecoverLogAsync().ConfigureAwait(false);
        _files.Database.ReleaseLeases(time.GetUtcNow());
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the loop and the pushes it runs to end, whatever is left of the shutdown time: the message log closes after.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => base.StopAsync(CancellationToken.None);

    /// <summary>Something new is in the outbox.</summary>
    public void Signal() => _wake.Release();

    public override void Dispose()
    {
        base.Dispose();
        _wake.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => RunAsync(stoppingToken), CancellationToken.None);

    private async Task RunAsync(CancellationToken stopping)
    {
        var running = new List<Task>();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var free = _files.Options.MaxParallelDeliveries - running.Count;
                if (free > 0)
                {
                    // Room for the running ones (still due while their lease is written) and for
                    // entries held back behind a push of the same file, so those do not fill the page.
                    var limit = free + _active.Count + (HeldBackPerSlot * _files.Options.MaxParallelDeliveries);
                    foreach (var due in _files.Database.Due(time.GetUtcNow(), limit))
                    {
                        var key = (due.Sender, due.FileId, due.Recipient);
                        var push = (due.Sender, due.FileId, SubsystemId.Parse(due.Recipient).Member.ToString());
                        if (running.Count < _files.Options.MaxParallelDeliveries && !_pushing.ContainsKey(push) && _active.TryAdd(key, 0))
                        {
                            _pushing[push] = 0;
                            running.Add(DeliverGuardedAsync(due, key, push, stopping));
                        }
                    }
                }

                var wait = WaitTime();
                // The semaphore's timeout runs on the system clock; it only bounds how long the loop
                // sleeps, while what is due is decided by the injected clock.
                Task woken = _wake.WaitAsync(wait, stopping);
                var finished = running.Count == 0 ? woken : await Task.WhenAny(running.Append(woken)).ConfigureAwait(false);
                if (finished != woken)
                {
                    // A delivery ended: its slot is free now, not at the next wake-up.
                    _wake.Release();
                }

                await woken.ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                Log.LoopFailed(_logger, ex.GetType().Name);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private TimeSpan WaitTime()
    {
        var next = _files.Database.NextDue();
        if (next is null)
        {
            return TimeSpan.FromMinutes(1);
        }

        var wait = next.Value - time.GetUtcNow();
        return wait < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : wait > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : wait;
    }

    private async Task DeliverGuardedAsync(DueDelivery due, (string, string, string) key, (string, string, string) push, CancellationToken stopping)
    {
        try
        {
            await DeliverAsync(due, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: the entry stays "sending" and is taken up again at the next start.
        }
        catch (Exception ex) when (ex is IOException or Microsoft.Data.Sqlite.SqliteException or InvalidProtocolBufferException)
        {
            Log.DeliveryFault(_logger, ex.GetType().Name);
            await _files.Database.PostponeAsync(due.Sender, due.FileId, due.Recipient, time.GetUtcNow() + _files.Options.RetryBaseDelay).ConfigureAwait(false);
        }
        finally
        {
            _pushing.TryRemove(push, out _);
            _active.TryRemove(key, out _);
        }
    }

    private async Task DeliverAsync(DueDelivery due, CancellationToken stopping)
    {
        // Read whole only now that it runs; _active keeps any other run of this delivery away,
        // and a row that stopped being due meanwhile is left alone.
        var entry = _files.Database.GetOutbox(due.Sender, due.FileId, due.Recipient);
        var sent = _files.Database.GetSent(due.Sender, due.FileId);
        if (entry is not { State: DeliveryState.Accepted or DeliveryState.Sending } || sent is null)
        {
            return;
        }

        var file = sent.Description;
        var correlationId = Guid.NewGuid().ToString("N");
        var now = time.GetUtcNow();
        var started = entry.State != DeliveryState.Sending;
        entry = entry with { State = DeliveryState.Sending, NextAttemptAt = now + Lease, UpdatedAt = now };
        await _files.Database.UpdateOutboxAsync(
            entry, started ? [FileRecords.State(file, ServiceOf(entry), DeliveryStates.Name(DeliveryState.Sending), correlationId)] : []).ConfigureAwait(false);
        await PushAndRecordAsync(entry, sent, correlationId, stopping).ConfigureAwait(false);
    }

    private async Task PushAndRecordAsync(OutboxEntry entry, SentFile sent, string correlationId, CancellationToken stopping)
    {
        var file = sent.Description;
        try
        {
            var (receipt, resumedFrom) = await PushAsync(entry, sent, stopping).ConfigureAwait(false);
            var header = VerifyReceipt(receipt, entry, file);
            await _files.Database.UpdateOutboxAsync(
                entry with
                {
                    State = DeliveryState.Delivered, Attempts = entry.Attempts + 1, Reason = string.Empty, ResumedFrom = resumedFrom,
                    Receipt = receipt.ToByteArray(), UpdatedAt = time.GetUtcNow(),
                },
                [
                    FileRecords.Signed(MessageDirection.FileReceiptReceived, header, receipt, file.Sha256, correlationId),
                    FileRecords.State(file, ServiceOf(entry), DeliveryStates.Name(DeliveryState.Delivered), correlationId),
                ]).ConfigureAwait(false);
            Log.Delivered(_logger, resumedFrom > 0, correlationId);
        }
        catch (NodeException ex)
        {
            await FailedAttemptAsync(entry, file, ex.Code, FileErrors.IsTransient(ex.Code), correlationId).ConfigureAwait(false);
        }
        catch (RpcException ex) when (!stopping.IsCancellationRequested)
        {
            var code = ex.ErrorCode ?? FileErrors.RecipientUnreachable;
            await FailedAttemptAsync(entry, file, code, ex.ErrorCode is null || FileErrors.IsTransient(ex.ErrorCode), correlationId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !stopping.IsCancellationRequested)
        {
            await FailedAttemptAsync(entry, file, FileErrors.RecipientUnreachable, transient: true, correlationId).ConfigureAwait(false);
        }
    }

    /// <summary>Retries later (twice as late each time) or fails for good, and says so in the log.</summary>
    private async Task FailedAttemptAsync(OutboxEntry entry, FileDescription file, string code, bool transient, string correlationId)
    {
        var attempts = entry.Attempts + 1;
        var now = time.GetUtcNow();
        var options = _files.Options;
        OutboxEntry updated;
        if (transient && attempts < options.MaxAttempts)
        {
            var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
            var delay = TimeSpan.FromTicks((long)Math.Min(options.RetryBaseDelay.Ticks * factor, options.MaxRetryDelay.Ticks));
            updated = entry with { State = DeliveryState.Sending, Attempts = attempts, Reason = code, NextAttemptAt = now + delay, UpdatedAt = now };
            Log.Retrying(_logger, code, attempts, delay, correlationId);
        }
        else
        {
            updated = entry with { State = DeliveryState.Failed, Attempts = attempts, Reason = transient ? FileErrors.AttemptsExhausted : code, UpdatedAt = now };
            Log.Failed(_logger, updated.Reason, correlationId);
        }

        await _files.Database.UpdateOutboxAsync(updated, [FileRecords.State(file, ServiceOf(entry), updated.Reason, correlationId)]).ConfigureAwait(false);
    }

    /// <summary>Offer, then push from the recipient's offset; the recipient's nodes are tried in turn while unreachable.</summary>
    private async Task<(SignedEnvelope Receipt, long ResumedFrom)> PushAsync(OutboxEntry entry, SentFile sent, CancellationToken stopping)
    {
        var view = configuration.Current(NodeErrors.OutdatedGlobalConf);
        var recipient = SubsystemId.Parse(entry.Recipient);
        var nodes = view.NodesOf(recipient.Member);
        if (nodes.Count == 0)
        {
            throw new NodeException(StatusCode.Unavailable, FileErrors.NoRecipientNode, $"{recipient.Member} has no node in the global configuration.");
        }

        // The manifest's signature stands; the OCSP response beside it is refreshed, since a
        // retry may come long after the response the acceptance carried went stale.
        var manifest = SignedEnvelope.Parser.ParseFrom(entry.Manifest);
        manifest.SignerOcspResponse = ByteString.CopyFrom(ownStatus.Current());
        var pushFirst = sent.Description.ChunkCount <= 1 && entry.Attempts == 0 && !DeliveredToSameMember(entry, recipient);
        RpcException? unreachable = null;
        foreach (var target in nodes)
        {
            try
            {
                var channel = peers.For(target, view);

                // A file of one chunk has nothing to resume: its first push goes without asking
                // (a file the recipient has already gets its receipt back from the push itself),
                // unless another subsystem of the recipient's member has it (see DeliveredToSameMember).
                if (pushFirst)
                {
                    return (await PushFromAsync(channel, manifest, sent, 0, stopping).ConfigureAwait(false), 0);
                }

                var offer = await new FileTransfer.FileTransferClient(channel).OfferAsync(new OfferRequest { Manifest = manifest }, new CallOptions(deadline: (time.GetUtcNow() + OfferDeadline).UtcDateTime, cancellationToken: stopping)).ResponseAsync.ConfigureAwait(false);
                if (offer.Complete)
                {
                    return (offer.Receipt, (long)offer.Offset);
                }

                var offset = (long)offer.Offset;
                return (await PushFromAsync(channel, manifest, sent, offset, stopping).ConfigureAwait(false), offset);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.ErrorCode is null)
            {
                unreachable = ex;
            }
        }

        throw unreachable!;
    }

    /// <summary>
    /// Whether the file was delivered to another subsystem of the recipient's member: that node
    /// then completes the offer from the content it holds, with its own receipt, so the content
    /// does not travel again (nor is it written, fsynced and hashed again there). The deliveries
    /// of a file to one member's subsystems run one after the other, so all but the first find this.
    /// </summary>
    private bool DeliveredToSameMember(OutboxEntry entry, SubsystemId recipient) =>
        _files.Database.Outbox(entry.Sender, entry.FileId).Any(other =>
            other.State is DeliveryState.Delivered or DeliveryState.Acknowledged
            && !string.Equals(other.Recipient, entry.Recipient, StringComparison.Ordinal)
            && SubsystemId.Parse(other.Recipient).Member == recipient.Member);

    private async Task<SignedEnvelope> PushFromAsync(GrpcChannel channel, SignedEnvelope manifest, SentFile sent, long offset, CancellationToken stopping)
    {
        var file = sent.Description;
        using var call = new FileTransfer.FileTransferClient(channel).Push(new CallOptions(cancellationToken: stopping));
        var buffer = ArrayPool<byte>.Shared.Rent(file.ChunkBytes);
        try
        {
            await call.WriteOrAnswerAsync(new PushRequest
            {
                Start = new PushStart { Manifest = manifest, ChunkHashes = ByteString.CopyFrom(sent.ChunkHashes), Offset = (ulong)offset },
            }, stopping).ConfigureAwait(false);
            await using (var content = _files.Store.OpenRead(file.Sha256))
            {
                content.Position = offset;
                for (var index = (int)(offset / file.ChunkBytes); index < file.ChunkCount; index++)
                {
                    var length = file.ChunkLength(index);
                    await content.ReadExactlyAsync(buffer.AsMemory(0, length), stopping).ConfigureAwait(false);
                    // Not copied: the write frames the message before it returns, and the buffer is
                    // only refilled after that (a copy was another 1 MiB of garbage per chunk).
                    await call.WriteOrAnswerAsync(new PushRequest { Chunk = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, length)) }, stopping).ConfigureAwait(false);
                }
            }

            await call.CompleteOrAnswerAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or InvalidOperationException && !stopping.IsCancellationRequested)
        {
            // The recipient may have refused mid-stream: its coded answer says why, not the broken write.
            RpcException? coded = null;
            try
            {
                await call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException answer) when (answer.ErrorCode is not null)
            {
                coded = answer;
            }
            catch (Exception other) when (other is RpcException or IOException or HttpRequestException or InvalidOperationException or OperationCanceledException)
            {
                // No coded answer: the write's own failure stands.
            }

            if (coded is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(coded);
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>The receipt is the recipient member's, for this file and this manifest.</summary>
    private MessageHeader VerifyReceipt(SignedEnvelope receipt, OutboxEntry entry, FileDescription file)
    {
        var view = configuration.Current(NodeErrors.OutdatedGlobalConf);
        var recipient = SubsystemId.Parse(entry.Recipient);
        var verified = verification.Verify(receipt, view, _ => recipient.Member, ReceiptCodes, FileDocuments.SignedFileHash);
        var header = verified.Header;
        var manifest = SignedEnvelope.Parser.ParseFrom(entry.Manifest);
        var manifestToBeSigned = Core.Signing.EnvelopeDigest.FromHashes(SHA256.HashData(manifest.Header.Span), file.Sha256);
        if (header.Kind != MessageKind.FileReceipt
            || !string.Equals(header.MessageId, file.FileId, StringComparison.Ordinal)
            || !string.Equals(header.Service, ServiceOf(entry), StringComparison.Ordinal)
            || FileDocuments.SignedFileHash(header) is not { } hash || !CryptographicOperations.FixedTimeEquals(hash, file.Sha256)
            || !CryptographicOperations.FixedTimeEquals(header.RequestHash.Span, SHA256.HashData(manifestToBeSigned))
            || !view.NodesOf(recipient.Member).Any(n => string.Equals(n.Id.ToString(), header.SenderNode, StringComparison.Ordinal)))
        {
            throw new NodeException(StatusCode.DataLoss, FileErrors.InvalidReceipt, "The receipt does not answer this manifest (kind, file, hash or node differ).");
        }

        return header;
    }

    /// <summary>
    /// Asks the recipient's node whether its system acknowledged a delivered file; best effort
    /// (the sender's status query makes it, and an unreachable recipient leaves it "delivered").
    /// </summary>
    internal async Task<OutboxEntry> RefreshAcknowledgedAsync(OutboxEntry entry, FileDescription file, TimeSpan deadline, CancellationToken cancellationToken)
    {
        try
        {
            var view = configuration.Current(NodeErrors.OutdatedGlobalConf);
            var manifest = SignedEnvelope.Parser.ParseFrom(entry.Manifest);
            manifest.SignerOcspResponse = ByteString.CopyFrom(ownStatus.Current());
            foreach (var target in view.NodesOf(SubsystemId.Parse(entry.Recipient).Member))
            {
                var offer = await new FileTransfer.FileTransferClient(peers.For(target, view)).OfferAsync(new OfferRequest { Manifest = manifest }, new CallOptions(deadline: (time.GetUtcNow() + deadline).UtcDateTime, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
                if (offer is { Complete: true, Acknowledged: true })
                {
                    var updated = entry with { State = DeliveryState.Acknowledged, UpdatedAt = time.GetUtcNow() };
                    await _files.Database.UpdateOutboxAsync(
                        updated, [FileRecords.State(file, ServiceOf(entry), DeliveryStates.Name(DeliveryState.Acknowledged), Guid.NewGuid().ToString("N"))]).ConfigureAwait(false);
                    return updated;
                }

                return entry;
            }
        }
        catch (Exception ex) when (ex is RpcException or NodeException or HttpRequestException or IOException)
        {
            Log.AcknowledgementUnknown(_logger, ex.GetType().Name);
        }

        return entry;
    }

    private static string ServiceOf(OutboxEntry entry) => FileDocuments.ReceiveService(SubsystemId.Parse(entry.Recipient)).ToString();

    private static partial class Log
    {
        [LoggerMessage(4640, LogLevel.Information, "Delivered a file (resumed: {Resumed}) (correlation id {CorrelationId})")]
        public static partial void Delivered(ILogger logger, bool resumed, string correlationId);

        [LoggerMessage(4641, LogLevel.Warning, "File delivery attempt {Attempt} failed with {Code}; retrying in {Delay} (correlation id {CorrelationId})")]
        public static partial void Retrying(ILogger logger, string code, int attempt, TimeSpan delay, string correlationId);

        [LoggerMessage(4642, LogLevel.Warning, "File delivery failed for good: {Code} (correlation id {CorrelationId})")]
        public static partial void Failed(ILogger logger, string code, string correlationId);

        [LoggerMessage(4643, LogLevel.Error, "The delivery loop failed ({Error}); retrying")]
        public static partial void LoopFailed(ILogger logger, string error);

        [LoggerMessage(4644, LogLevel.Error, "A delivery failed locally ({Error}); it is retried when due")]
        public static partial void DeliveryFault(ILogger logger, string error);

        [LoggerMessage(4645, LogLevel.Debug, "Could not learn whether a delivered file was acknowledged ({Error})")]
        public static partial void AcknowledgementUnknown(ILogger logger, string error);
    }
}
