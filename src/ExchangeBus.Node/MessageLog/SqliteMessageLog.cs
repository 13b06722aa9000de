// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Storage;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The node's message log: an append-only, hash-chained record of every request and response,
/// in one SQLite file (WAL). Appends go through a group-commit writer (<see cref="MessageLogWriter"/>
/// on Core's <see cref="GroupCommitWriter"/>): one writer thread takes everything queued, writes
/// it in one transaction and commits, so a flush to disk is shared by every caller whose record
/// was waiting; <see cref="AppendAsync"/> completes only after that commit.
/// docs/design/message-log.md has the schema, the hash rule and the guarantees.
/// </summary>
public sealed partial class SqliteMessageLog : IAsyncDisposable
{
    private readonly MessageLogOptions _options;
    private readonly ILogger<SqliteMessageLog> _logger;
    private readonly MessageLogReader _reader;
    private readonly MessageLogWriter _writer;
    private int _disposed;

    private SqliteMessageLog(
        string path, MessageLogOptions options, TimeProvider clock, ILogger<SqliteMessageLog> logger, MessageLogReader reader,
        Microsoft.Data.Sqlite.SqliteConnection connection, long lastSequence, byte[] lastHash, MerkleTreeBuilder tree)
    {
        Path = path;
        _options = options;
        _logger = logger;
        _reader = reader;
        _writer = new MessageLogWriter(path, options, clock, logger, reader, connection, lastSequence, lastHash, tree);
    }

    public string Path { get; }

    /// <summary>Records handed to <see cref="AppendAsync"/> and not yet committed (or failed): for a metric.</summary>
    public int QueueDepth => _writer.Pending;

    /// <summary>Records in the queue that the writer has not taken yet (tests use it to shape batches).</summary>
    internal int QueuedNotTaken => _writer.Queued;

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
            var fromVersion = MessageLogDatabase.Migrate(connection);
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

            var signedSize = Sql.ScalarInt64(connection, null, "SELECT COALESCE(MAX(tree_size), 0) FROM tree_heads;");
            if (signedSize > lastSequence)
            {
                MessageLogLog.TailFailsVerification(logger, path, lastSequence + 1, MessageLogProblems.Truncated);
                throw new MessageLogIntegrityException(MessageLogProblems.Truncated, lastSequence + 1,
                    $"The log ends at record {lastSequence}, but this node signed a tree head over {signedSize} records: records were cut off the end.");
            }

            var tree = SqliteMerkleNodes.RestoreOrRebuild(connection, lastSequence, records => MessageLogLog.MerkleRebuilt(logger, records));
            var log = new SqliteMessageLog(path, options, timeProvider, logger, reader, connection, lastSequence, lastHash, tree);
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

        return _writer.AppendAsync(record, cancellationToken);
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
        Interlocked.Exchange(ref _disposed, 1);
        await _writer.DisposeAsync().ConfigureAwait(false);
    }
}
