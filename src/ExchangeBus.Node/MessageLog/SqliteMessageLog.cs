// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using ExchangeBus.Core.Merkle;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The node's message log: an append-only, hash-chained record of every request and response,
/// in one SQLite file (WAL). One writer thread takes everything queued, writes it in one
/// transaction and commits (group commit), so a flush to disk is shared by every caller whose
/// record was waiting; <see cref="AppendAsync"/> completes only after that commit.
/// docs/design/message-log.md has the schema, the hash rule and the guarantees.
/// </summary>
public sealed partial class SqliteMessageLog : IAsyncDisposable
{
    /// <summary>A batch stops growing past this many payload bytes, so one transaction (and the WAL) stays modest.</summary>
    private const long MaxBatchBytes = 32L * 1024 * 1024;

    private readonly MessageLogOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<SqliteMessageLog> _logger;
    private readonly MessageLogReader _reader;
    private readonly Channel<PendingAppend> _queue;
    private readonly Thread _writerThread;
    private readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Owned by the writer thread once it has started.
    private SqliteConnection? _connection;
    private SqliteCommand? _insert;
    private SqliteParameter[] _parameters = [];
    private SqliteCommand? _insertBlob;
    private SqliteCommand? _insertOcsp;
    private SqliteMerkleNodes? _merkle;

    // Certificates and OCSP responses already committed to the blobs table: the same few repeat
    // on every record for minutes, and an INSERT OR IGNORE per record is a b-tree search each.
    // Added only once their batch commits (a rolled-back batch takes its rows with it).
    private readonly HashSet<byte[]> _storedBlobs = new(BlobHashComparer.Instance);
    private readonly List<byte[]> _batchBlobs = [];
    private MerkleTreeBuilder _tree;
    private readonly byte[] _leaf = new byte[MerkleHash.Size];
    private IncrementalHash _hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _lastSequence;
    private byte[] _lastHash;

    private int _queueDepth;
    private int _disposed;

    private SqliteMessageLog(
        string path, MessageLogOptions options, TimeProvider clock, ILogger<SqliteMessageLog> logger, MessageLogReader reader,
        SqliteConnection connection, long lastSequence, byte[] lastHash, MerkleTreeBuilder tree)
    {
        _tree = tree;
        Path = path;
        _options = options;
        _clock = clock;
        _logger = logger;
        _reader = reader;
        _lastSequence = lastSequence;
        _lastHash = lastHash;
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        UseConnection(connection);

        // A dedicated thread, not the thread pool: each commit blocks in fsync for milliseconds,
        // and the pool's threads are what answer the calls.
        _writerThread = new Thread(RunWriter) { IsBackground = true, Name = "message-log-writer" };
    }

    public string Path { get; }

    /// <summary>Records handed to <see cref="AppendAsync"/> and not yet committed (or failed): for a metric.</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);

    /// <summary>Records in the queue that the writer has not taken yet (tests use it to shape batches).</summary>
    internal int QueuedNotTaken => _queue.Reader.Count;

    /// <summary>
    /// Opens (creating and migrating if need be) the log at <paramref name="path"/> and starts
    /// its writer, which resumes the chain from the last record. Refuses, with
    /// <see cref="MessageLogIntegrityException"/>, a log whose last record does not verify.
    /// </summary>
    public static SqliteMessageLog Open(string path, MessageLogOptions options, TimeProvider timeProvider, ILogger<SqliteMessageLog> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Message log options are not valid: " + string.Join("; ", problems), nameof(options));
        }

        var connection = MessageLogDatabase.OpenWriter(path, options);
        var reader = MessageLogReader.ForWriter(path);
        try
        {
            var fromVersion = MessageLogDatabase.Migrate(connection, path);
            if (fromVersion != MessageLogDatabase.CurrentSchemaVersion)
            {
                MessageLogLog.Migrated(logger, path, fromVersion, MessageLogDatabase.CurrentSchemaVersion);
            }

            // Read once: from here on the writer is the only one who appends, so it knows the tail.
            var (lastSequence, lastHash) = MessageLogDatabase.ReadTail(connection);
            if (lastSequence > 0)
            {
                var tail = reader.Verify(lastSequence, lastSequence);
                if (!tail.IsValid)
                {
                    MessageLogLog.TailFailsVerification(logger, path, tail.FirstBadSequence ?? lastSequence, tail.Problem!);
                    throw new MessageLogIntegrityException(
                        tail.Problem!,
                        tail.FirstBadSequence ?? lastSequence,
                        $"The message log's last record does not verify ({tail.Problem}: {tail.Detail}); no record is chained onto it.");
                }
            }

            var signedSize = Convert.ToInt64(MessageLogDatabase.Scalar(connection, "SELECT COALESCE(MAX(tree_size), 0) FROM tree_heads;"), System.Globalization.CultureInfo.InvariantCulture);
            if (signedSize > lastSequence)
            {
                MessageLogLog.TailFailsVerification(logger, path, lastSequence + 1, MessageLogProblems.Truncated);
                throw new MessageLogIntegrityException(MessageLogProblems.Truncated, lastSequence + 1,
                    $"The log ends at record {lastSequence}, but this node signed a tree head over {signedSize} records: records were cut off the end.");
            }

            var tree = SqliteMerkleNodes.RestoreOrRebuild(connection, lastSequence, records => MessageLogLog.MerkleRebuilt(logger, records));
            var log = new SqliteMessageLog(path, options, timeProvider, logger, reader, connection, lastSequence, lastHash, tree);
            log._writerThread.Start();
            MessageLogLog.Opened(logger, path, lastSequence, options.Synchronous);
            return log;
        }
        catch
        {
            connection.Dispose();
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Queues a record and completes with its sequence number once it is committed (with
    /// <see cref="MessageLogSynchronous.Full"/>, flushed to disk). If the commit fails, every
    /// record in that batch fails with the same exception and none is acknowledged.
    /// </summary>
    /// <param name="record">The record; <see cref="MessageLogRecord.At"/> is ignored (the log sets it).</param>
    /// <param name="cancellationToken">
    /// Observed while the queue is full. Once queued, a record is written regardless and the
    /// caller always learns the outcome, so that "cancelled" never hides "logged".
    /// </param>
    /// <exception cref="ArgumentException">The record is not valid; the message lists every problem.</exception>
    /// <exception cref="ObjectDisposedException">The log is closed.</exception>
    public ValueTask<long> AppendAsync(MessageLogRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var problems = record.Validate(_options.MaxBodyBytes);
        if (problems.Count > 0)
        {
            throw new ArgumentException("The message log record is not valid: " + string.Join("; ", problems), nameof(record));
        }

        var pending = new PendingAppend(record);
        Interlocked.Increment(ref _queueDepth);
        if (_queue.Writer.TryWrite(pending))
        {
            return new ValueTask<long>(pending.Task);
        }

        return EnqueueWhenRoomAsync(pending, cancellationToken);
    }

    /// <summary>The record with this sequence number, or null.</summary>
    public MessageLogEntry? Get(long sequence) => _reader.Get(sequence);

    /// <summary>Every record of a message id (request and response, either direction), in sequence order.</summary>
    public IReadOnlyList<MessageLogEntry> FindByMessageId(string messageId) => _reader.FindByMessageId(messageId);

    /// <summary>How many records are stored.</summary>
    public long Count() => _reader.Count();

    /// <summary>The highest committed sequence number, 0 for an empty log.</summary>
    public long LastSequence() => _reader.LastSequence();

    /// <inheritdoc cref="MessageLogReader.Verify"/>
    public MessageLogVerification Verify(long fromSequence = 1, long? toSequence = null)
    {
        var result = _reader.Verify(fromSequence, toSequence);
        if (!result.IsValid)
        {
            MessageLogLog.VerificationFailed(_logger, result.FirstBadSequence ?? 0, result.Problem!);
        }

        return result;
    }

    /// <summary>Stops taking records, writes everything already queued, then closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _queue.Writer.TryComplete();
        }

        await _writerStopped.Task.ConfigureAwait(false);
    }

    private async ValueTask<long> EnqueueWhenRoomAsync(PendingAppend pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            Interlocked.Decrement(ref _queueDepth);
            if (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(SqliteMessageLog));
            }

            throw new InvalidOperationException("The message log writer has stopped; see the log for why.", e.InnerException ?? e);
        }
        catch
        {
            Interlocked.Decrement(ref _queueDepth);
            throw;
        }

        return await pending.Task.ConfigureAwait(false);
    }

    private void RunWriter()
    {
        var batch = new List<PendingAppend>(Math.Min(_options.MaxBatchSize, 1_024));
        try
        {
            while (WaitForWork())
            {
                TakeBatch(batch);
                WriteBatch(batch);
                batch.Clear();
            }
        }
        catch (Exception e)
        {
            // Not a failed commit (WriteBatch answers those): a fault in the loop itself. Fail
            // whoever is waiting rather than leave them hanging.
            MessageLogLog.WriterCrashed(_logger, e);
            _queue.Writer.TryComplete(e);
            foreach (var pending in batch)
            {
                pending.TrySetException(e);
            }

            while (_queue.Reader.TryRead(out var pending))
            {
                pending.TrySetException(e);
            }
        }
        finally
        {
            // Readers first, so that the writer's connection is the last to close and can
            // checkpoint and remove the write-ahead log.
            _reader.Dispose();
            CloseConnection();
            _hasher.Dispose();
            MessageLogLog.Closed(_logger, Path, _lastSequence);
            _writerStopped.TrySetResult();
        }
    }

    /// <summary>Blocks this (dedicated) thread until a record is queued; false once the queue is closed and empty.</summary>
    private bool WaitForWork()
    {
        var wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Everything queued, up to the batch limits: the batch is as large as the load made it.</summary>
    private void TakeBatch(List<PendingAppend> batch)
    {
        long bytes = 0;
        while (batch.Count < _options.MaxBatchSize && bytes < MaxBatchBytes && _queue.Reader.TryRead(out var pending))
        {
            batch.Add(pending);
            bytes += pending.Record.Header.Length + (pending.Record.Body?.Length ?? 0);
        }
    }

    private void WriteBatch(List<PendingAppend> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = EnsureConnection();
            var sequence = _lastSequence;
            var previous = _lastHash;
            using (var transaction = connection.BeginTransaction(deferred: false))
            {
                _insert!.Transaction = transaction;
                _insertBlob!.Transaction = transaction;
                _insertOcsp!.Transaction = transaction;
                _merkle!.Transaction = transaction;
                foreach (var pending in batch)
                {
                    sequence++;
                    var atMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
                    var hash = MessageLogHash.Compute(_hasher, previous, sequence, atMs, pending.Record);
                    Bind(sequence, atMs, pending.Record, previous, hash);
                    _insert.ExecuteNonQuery();
                    WriteEvidence(sequence, pending.Record);
                    MerkleHash.HashLeaf(hash, _leaf);
                    _tree.Append(_leaf, _merkle);
                    pending.Sequence = sequence;
                    previous = hash;
                }

                transaction.Commit();
            }

            // Only a committed batch moves the tail.
            _lastSequence = sequence;
            _lastHash = previous;
            if (_storedBlobs.Count + _batchBlobs.Count > 4_096)
            {
                _storedBlobs.Clear();
            }

            _storedBlobs.UnionWith(_batchBlobs);
            _batchBlobs.Clear();
        }
        catch (Exception e)
        {
            MessageLogLog.BatchFailed(_logger, batch.Count, e);

            // Start the next batch from a fresh connection and the tail as the file has it:
            // whatever this one left behind (a half-hashed record, a connection in a bad state)
            // must not leak into it.
            CloseConnection();
            _batchBlobs.Clear();
            _hasher.Dispose();
            _hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Interlocked.Add(ref _queueDepth, -batch.Count);
            foreach (var pending in batch)
            {
                pending.TrySetException(e);
            }

            return;
        }

        MessageLogLog.BatchCommitted(_logger, batch.Count, _lastSequence, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        Interlocked.Add(ref _queueDepth, -batch.Count);
        foreach (var pending in batch)
        {
            pending.TrySetResult(pending.Sequence);
        }
    }

    private SqliteConnection EnsureConnection()
    {
        if (_connection is not null)
        {
            return _connection;
        }

        SqliteConnection connection;
        try
        {
            connection = MessageLogDatabase.OpenWriter(Path, _options);
        }
        catch (Exception e)
        {
            MessageLogLog.ReopenFailed(_logger, e);
            throw;
        }

        try
        {
            (_lastSequence, _lastHash) = MessageLogDatabase.ReadTail(connection);
            UseConnection(connection);

            // The failed batch may have grown the tree in memory: start again from the file.
            _tree = SqliteMerkleNodes.RestoreOrRebuild(connection, _lastSequence, records => MessageLogLog.MerkleRebuilt(_logger, records));
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        MessageLogLog.TailReloaded(_logger, _lastSequence);
        return connection;
    }

    private void UseConnection(SqliteConnection connection)
    {
        var insert = connection.CreateCommand();
        insert.CommandText = MessageLogDatabase.Insert;
        _parameters =
        [
            insert.Parameters.Add("$seq", SqliteType.Integer),
            insert.Parameters.Add("$at", SqliteType.Integer),
            insert.Parameters.Add("$message_id", SqliteType.Text),
            insert.Parameters.Add("$direction", SqliteType.Integer),
            insert.Parameters.Add("$client", SqliteType.Text),
            insert.Parameters.Add("$service", SqliteType.Text),
            insert.Parameters.Add("$user_id", SqliteType.Text),
            insert.Parameters.Add("$subject_id", SqliteType.Text),
            insert.Parameters.Add("$issue", SqliteType.Text),
            insert.Parameters.Add("$status", SqliteType.Text),
            insert.Parameters.Add("$body_sha256", SqliteType.Blob),
            insert.Parameters.Add("$signature", SqliteType.Blob),
            insert.Parameters.Add("$signer_cert_sha256", SqliteType.Blob),
            insert.Parameters.Add("$correlation_id", SqliteType.Text),
            insert.Parameters.Add("$prev_hash", SqliteType.Blob),
            insert.Parameters.Add("$hash", SqliteType.Blob),
            insert.Parameters.Add("$header", SqliteType.Blob),
            insert.Parameters.Add("$body", SqliteType.Blob),
        ];
        _insert = insert;
        _insertBlob = connection.CreateCommand();
        _insertBlob.CommandText = MessageLogDatabase.InsertBlob;
        _insertBlob.Parameters.Add("$sha256", SqliteType.Blob);
        _insertBlob.Parameters.Add("$der", SqliteType.Blob);
        _insertOcsp = connection.CreateCommand();
        _insertOcsp.CommandText = MessageLogDatabase.InsertRecordOcsp;
        _insertOcsp.Parameters.Add("$seq", SqliteType.Integer);
        _insertOcsp.Parameters.Add("$sha256", SqliteType.Blob);
        _merkle = SqliteMerkleNodes.ForWriting(connection, 0);
        _connection = connection;
    }

    /// <summary>The certificate and OCSP response of a record, each stored once by its hash.</summary>
    private void WriteEvidence(long sequence, MessageLogRecord record)
    {
        if (record.SignerCertificate is { } certificate)
        {
            InsertBlob(record.SignerCertificateSha256!, certificate);
        }

        if (record.OcspResponse is { } ocsp)
        {
            var hash = SHA256.HashData(ocsp);
            InsertBlob(hash, ocsp);
            _insertOcsp!.Parameters[0].Value = sequence;
            _insertOcsp.Parameters[1].Value = hash;
            _insertOcsp.ExecuteNonQuery();
        }
    }

    private void InsertBlob(byte[] sha256, byte[] der)
    {
        if (_storedBlobs.Contains(sha256) || _batchBlobs.Exists(b => b.AsSpan().SequenceEqual(sha256)))
        {
            return;
        }

        _batchBlobs.Add(sha256);
        _insertBlob!.Parameters[0].Value = sha256;
        _insertBlob.Parameters[1].Value = der;
        _insertBlob.ExecuteNonQuery();
    }

    private void Bind(long sequence, long atMs, MessageLogRecord record, byte[] previousHash, byte[] hash)
    {
        var p = _parameters;
        p[0].Value = sequence;
        p[1].Value = atMs;
        p[2].Value = record.MessageId;
        p[3].Value = (long)record.Direction;
        p[4].Value = record.Client;
        p[5].Value = record.Service;
        p[6].Value = record.UserId;
        p[7].Value = (object?)MessageLogHash.NormalizeSubject(record.SubjectId) ?? DBNull.Value;
        p[8].Value = record.Issue;
        p[9].Value = record.Status;
        p[10].Value = record.BodySha256;
        p[11].Value = record.Signature;
        p[12].Value = (object?)record.SignerCertificateSha256 ?? DBNull.Value;
        p[13].Value = record.CorrelationId;
        p[14].Value = previousHash;
        p[15].Value = hash;
        p[16].Value = record.Header;
        p[17].Value = (object?)record.Body ?? DBNull.Value;
    }

    private void CloseConnection()
    {
        _insert?.Dispose();
        _insert = null;
        _insertBlob?.Dispose();
        _insertBlob = null;
        _insertOcsp?.Dispose();
        _insertOcsp = null;
        _merkle?.Dispose();
        _merkle = null;
        _connection?.Dispose();
        _connection = null;
    }

    /// <summary>A queued record and the caller's pending answer (its sequence number).</summary>
    private sealed class PendingAppend(MessageLogRecord record) : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public MessageLogRecord Record { get; } = record;

        public long Sequence { get; set; }
    }
}

/// <summary>SHA-256 values as set keys: equal when all 32 bytes are.</summary>
internal sealed class BlobHashComparer : IEqualityComparer<byte[]>
{
    public static readonly BlobHashComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => obj.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(obj) : obj.Length;
}
