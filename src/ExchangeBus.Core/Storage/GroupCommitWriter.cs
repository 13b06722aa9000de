// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Storage;

/// <summary>
/// One writer for one SQLite file, with group commit: a dedicated thread takes every write
/// queued, runs them in one transaction and commits, so one flush to disk serves every caller
/// whose write was waiting. A write's task completes only after that commit; if the commit (or,
/// without <see cref="GroupCommitOptions.IsolateWrites"/>, any write of the batch) fails, every
/// write of the batch fails with that exception and none is acknowledged. After a failed batch
/// the connection is closed and the next batch starts on a fresh one from <see cref="Connect"/>.
/// <para>
/// A store derives a writer that owns its connection and whatever state its writes share; the
/// hooks run on the writer thread, so that state needs no lock. Used by the message log and by
/// file sync (docs/architecture.md, "Storage").
/// </para>
/// </summary>
public abstract class GroupCommitWriter : IAsyncDisposable, IDisposable
{
    private readonly GroupCommitOptions _options;
    private readonly Channel<PendingWrite> _queue;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SqliteConnection? _connection;
    private int _pending;
    private int _started;
    private int _disposed;

    protected GroupCommitWriter(GroupCommitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1);
        _options = options;
        _queue = options.QueueCapacity is { } capacity
            ? Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(capacity)
            {
                SingleReader = true,
                SingleWriter = false,
                FullMode = BoundedChannelFullMode.Wait,
            })
            // Not SingleReader: that unbounded channel cannot count what it holds (Queued).
            : Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

        // A dedicated thread, not the thread pool: each commit blocks in fsync for milliseconds,
        // and the pool's threads are what answer the calls.
        _thread = new Thread(Run) { IsBackground = true, Name = options.Name };
    }

    /// <summary>Writes handed over and not yet committed (or failed): for a metric.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Writes in the queue that the writer has not taken yet.</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>
    /// Starts the writer thread, on <paramref name="connection"/> (opened and checked by the
    /// store, now owned by the writer) or, when null, on one from <see cref="Connect"/> at the
    /// first batch.
    /// </summary>
    protected void Start(SqliteConnection? connection)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The writer has started already.");
        }

        _connection = connection;
        _thread.Start();
    }

    /// <summary>
    /// Queues <paramref name="write"/> for the next batch and completes with its result once the
    /// batch is committed.
    /// </summary>
    /// <param name="write">Runs on the writer thread inside the batch's transaction.</param>
    /// <param name="bytes">The write's size, counted against <see cref="GroupCommitOptions.MaxBatchBytes"/>.</param>
    /// <param name="cancellationToken">
    /// Observed while the queue is full. Once queued, a write runs regardless and the caller
    /// always learns the outcome, so that "cancelled" never hides "written".
    /// </param>
    /// <exception cref="ObjectDisposedException">The writer is closed.</exception>
    public ValueTask<T> WriteAsync<T>(Func<SqliteTransaction, T> write, long bytes = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingWrite<T>(write, bytes);
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(pending))
        {
            return new ValueTask<T>(pending.Task);
        }

        return EnqueueWhenRoomAsync(pending, cancellationToken);
    }

    /// <summary>Stops taking writes, commits everything already queued, then closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        Stop();
        await _stopped.Task.ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose()
    {
        Stop();
        _stopped.Task.GetAwaiter().GetResult();
        GC.SuppressFinalize(this);
    }

    /// <summary>A new connection for the writer: after a failed batch, or at the first batch if <see cref="Start"/> had none.</summary>
    protected abstract SqliteConnection Connect();

    /// <summary>The batch's transaction has begun; no write has run yet.</summary>
    protected virtual void BatchStarting(SqliteTransaction transaction)
    {
    }

    /// <summary>The batch is committed; its callers are answered right after.</summary>
    protected virtual void BatchCommitted(int writes, TimeSpan elapsed)
    {
    }

    /// <summary>The batch is rolled back; the connection is closed after this, its callers fail with <paramref name="exception"/>.</summary>
    protected virtual void BatchFailed(int writes, Exception exception)
    {
    }

    /// <summary>The connection is about to close: dispose whatever was prepared on it.</summary>
    protected virtual void Closing(SqliteConnection connection)
    {
    }

    /// <summary>The loop itself failed (not a batch): every waiting write fails with <paramref name="exception"/> and the writer stops.</summary>
    protected virtual void Crashed(Exception exception)
    {
    }

    /// <summary>The queue is empty and closed; the connection (if any) is still open and closes next.</summary>
    protected virtual void Stopping(SqliteConnection? connection)
    {
    }

    /// <summary>The queue is empty and closed, the connection closed; the last thing the writer thread does.</summary>
    protected virtual void Stopped()
    {
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _queue.Writer.TryComplete();
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _stopped.TrySetResult(); // never started: nothing to wait for
            }
        }
    }

    private async ValueTask<T> EnqueueWhenRoomAsync<T>(PendingWrite<T> pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            Interlocked.Decrement(ref _pending);
            if (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(GetType().Name);
            }

            throw new InvalidOperationException("The writer has stopped; see the log for why.", e.InnerException ?? e);
        }
        catch
        {
            Interlocked.Decrement(ref _pending);
            throw;
        }

        return await pending.Task.ConfigureAwait(false);
    }

    private void Run()
    {
        var batch = new List<PendingWrite>(Math.Min(_options.MaxBatchSize, 1_024));
        try
        {
            while (WaitForWork())
            {
                Take(batch);
                Write(batch);
                batch.Clear();
            }
        }
        catch (Exception e)
        {
            // Not a failed batch (Write answers those): a fault in the loop itself. Fail whoever
            // is waiting rather than leave them hanging.
            Crashed(e);
            _queue.Writer.TryComplete(e);
            foreach (var pending in batch)
            {
                pending.Fail(e);
            }

            while (_queue.Reader.TryRead(out var pending))
            {
                pending.Fail(e);
            }
        }
        finally
        {
            try
            {
                Stopping(_connection);
                Close();
                Stopped();
            }
            finally
            {
                // Whatever the hooks did, nobody waiting for the writer to stop waits for ever.
                Close();
                _stopped.TrySetResult();
            }
        }
    }

    /// <summary>Blocks this (dedicated) thread until a write is queued; false once the queue is closed and empty.</summary>
    private bool WaitForWork()
    {
        var wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Everything queued, up to the batch limits: the batch is as large as the load made it.</summary>
    private void Take(List<PendingWrite> batch)
    {
        long bytes = 0;
        while (batch.Count < _options.MaxBatchSize && bytes < _options.MaxBatchBytes && _queue.Reader.TryRead(out var pending))
        {
            batch.Add(pending);
            bytes += pending.Bytes;
        }
    }

    private void Write(List<PendingWrite> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = _connection ??= Connect();
            using var transaction = connection.BeginTransaction(deferred: false);
            BatchStarting(transaction);
            foreach (var write in batch)
            {
                if (!_options.IsolateWrites)
                {
                    write.Run(transaction);
                    continue;
                }

                transaction.Save("w");
                try
                {
                    write.Run(transaction);
                    transaction.Release("w");
                }
                catch (Exception e)
                {
                    // This write's own fault (a constraint, say): only its savepoint goes. A fault
                    // that broke the transaction makes the rollback throw, and the batch fails below.
                    transaction.Rollback("w");
                    transaction.Release("w");
                    write.Fail(e);
                }
            }

            transaction.Commit();
        }
        catch (Exception e)
        {
            BatchFailed(batch.Count, e);

            // Whatever this batch left behind (a connection in a bad state, half-built state in
            // the store's writer) must not leak into the next one.
            Close();
            Interlocked.Add(ref _pending, -batch.Count);
            foreach (var write in batch)
            {
                write.Fail(e);
            }

            return;
        }

        BatchCommitted(batch.Count, Stopwatch.GetElapsedTime(started));
        Interlocked.Add(ref _pending, -batch.Count);
        foreach (var write in batch)
        {
            write.Complete();
        }
    }

    private void Close()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            try
            {
                Closing(connection);
            }
            finally
            {
                connection.Dispose();
            }
        }
    }

    private abstract class PendingWrite(long bytes)
    {
        public long Bytes { get; } = bytes;

        public abstract void Run(SqliteTransaction transaction);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteTransaction, T> write, long bytes) : PendingWrite(bytes)
    {
        // Continuations run on the pool, not on the writer (which has the next batch to commit).
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _done.Task;

        public override void Run(SqliteTransaction transaction) => _result = write(transaction);

        public override void Complete() => _done.TrySetResult(_result);

        public override void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
