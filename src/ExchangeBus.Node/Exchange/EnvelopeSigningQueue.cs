// SPDX-License-Identifier: Apache-2.0
using System.Threading.Channels;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Trust;
using Google.Protobuf;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// Signs the node's requests and responses (docs/design/envelope-signature.md, "Batch form").
/// One loop takes whatever envelopes are waiting when it comes round, up to
/// <see cref="BatchSignature.MaxSignerBatch"/>: one waiting is signed at once in the single
/// form; several get one ECDSA signature over their tree's root and each its path. Nothing
/// waits for a batch to fill: there is no timer, and a batch is simply what arrived while the
/// previous one was being signed, so under load signing costs one ECDSA signature per batch
/// and without load it costs what it did.
/// </summary>
/// <remarks>
/// Once the host stops the loop, envelopes are signed by their caller in the single form, so a
/// call still draining never waits on a loop that is gone.
/// </remarks>
public sealed partial class EnvelopeSigningQueue(NodeKeys keys, OwnCertificateStatus ownStatus, ILogger<EnvelopeSigningQueue> logger) : BackgroundService
{
    private readonly Channel<Waiting> _waiting = Channel.CreateUnbounded<Waiting>(new UnboundedChannelOptions { SingleReader = true });

    // A single reader's channel cannot count; this does, for tests and the drain at stop.
    private int _count;

    // Completed unless a test holds the loop to gather a batch it can count on.
    private volatile TaskCompletionSource? _hold;

    /// <summary>How many envelopes are waiting for the loop.</summary>
    internal int WaitingCount => Volatile.Read(ref _count);

    /// <summary>
    /// The envelope of <paramref name="header"/> (serialized once: those bytes travel and are
    /// signed) and <paramref name="body"/>, signed, with the signer's certificate and OCSP
    /// response, and its tbs (a response binds to its SHA-256).
    /// </summary>
    public async Task<(SignedEnvelope Envelope, byte[] ToBeSigned)> BuildAsync(MessageHeader header, ByteString body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(body);
        var headerBytes = header.ToByteArray();
        var toBeSigned = EnvelopeDigest.Compute(headerBytes, body.Span);
        var signature = await SignAsync(toBeSigned, cancellationToken).ConfigureAwait(false);
        return (EnvelopeBuilder.WithSignature(headerBytes, body, signature, keys.SigningCertificateDer, ownStatus.Current()), toBeSigned);
    }

    /// <summary>A signature of either form over <paramref name="toBeSigned"/> (<see cref="EnvelopeDigest.Size"/> bytes).</summary>
    public Task<byte[]> SignAsync(byte[] toBeSigned, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(toBeSigned);
        if (toBeSigned.Length != EnvelopeDigest.Size)
        {
            throw new ArgumentException($"The to-be-signed value is {EnvelopeDigest.Size} bytes.", nameof(toBeSigned));
        }

        var waiting = new Waiting(toBeSigned, new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        Interlocked.Increment(ref _count);
        if (_waiting.Writer.TryWrite(waiting))
        {
            return waiting.Signed.Task.WaitAsync(cancellationToken);
        }

        Interlocked.Decrement(ref _count);
        return Task.FromResult(keys.Signer.SignDigest(toBeSigned));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Waiting>(BatchSignature.MaxSignerBatch);
        try
        {
            while (await _waiting.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_hold is { } hold)
                {
                    await hold.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                }

                SignWaiting(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: sign what is already queued; what comes later is signed by its caller.
        }

        _waiting.Writer.TryComplete();
        while (SignWaiting(batch))
        {
        }
    }

    /// <summary>Holds the loop until the returned source is completed (tests: a batch of a known size).</summary>
    internal TaskCompletionSource Hold()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = hold;
        _ = hold.Task.ContinueWith(_ => _hold = null, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return hold;
    }

    /// <summary>Signs what is waiting, up to a batch; false when nothing was.</summary>
    private bool SignWaiting(List<Waiting> batch)
    {
        while (batch.Count < BatchSignature.MaxSignerBatch && _waiting.Reader.TryRead(out var next))
        {
            Interlocked.Decrement(ref _count);
            batch.Add(next);
        }

        if (batch.Count == 0)
        {
            return false;
        }

        try
        {
            if (batch.Count == 1)
            {
                batch[0].Signed.TrySetResult(keys.Signer.SignDigest(batch[0].ToBeSigned));
            }
            else
            {
                var signatures = keys.Signer.SignBatch([.. batch.Select(w => w.ToBeSigned)]);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Signed.TrySetResult(signatures[i]);
                }
            }
        }
        catch (Exception ex)
        {
            // A key the platform refuses to use: every caller of this batch fails, the loop goes on.
            Log.SigningFailed(logger, batch.Count, ex);
            foreach (var waiting in batch)
            {
                waiting.Signed.TrySetException(ex);
            }
        }
        finally
        {
            batch.Clear();
        }

        return true;
    }

    private sealed record Waiting(byte[] ToBeSigned, TaskCompletionSource<byte[]> Signed);

    private static partial class Log
    {
        [LoggerMessage(4210, LogLevel.Error, "Signing a batch of {Count} envelopes failed")]
        public static partial void SigningFailed(ILogger logger, int count, Exception exception);
    }
}
