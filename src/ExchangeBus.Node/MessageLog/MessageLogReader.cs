// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The read side of a message log: lookups and chain verification, safe from any thread. Every
/// call takes its own read-only connection; in WAL mode readers see the last commit and never
/// block the writer. <see cref="SqliteMessageLog"/> uses one of these; auditors' tools can open
/// one on a file directly, without starting a writer (which also works on a log whose tail no
/// longer verifies).
/// </summary>
public sealed partial class MessageLogReader : IDisposable
{
    /// <summary>Rows per verify query: keeps each read snapshot short, so a long verify never pins the WAL.</summary>
    private const int VerifyChunk = 1_000;

    private readonly string _connectionString;

    private MessageLogReader(string path)
    {
        Path = path;
        _connectionString = MessageLogDatabase.ReaderConnectionString(path);
    }

    public string Path { get; }

    /// <summary>Opens an existing message log for reading only.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidOperationException">The file's schema is not the one this program writes.</exception>
    public static MessageLogReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("There is no message log at this path.", path);
        }

        var reader = new MessageLogReader(path);
        using var connection = reader.OpenConnection();
        int version;
        try
        {
            version = MessageLogDatabase.SchemaVersion(connection);
        }
        catch (SqliteException e)
        {
            throw new InvalidOperationException($"{path} is not a message log.", e);
        }

        if (version != MessageLogDatabase.CurrentSchemaVersion)
        {
            throw new InvalidOperationException(
                $"{path} has message log schema version {version}; this program reads version {MessageLogDatabase.CurrentSchemaVersion}.");
        }

        return reader;
    }

    internal static MessageLogReader ForWriter(string path) => new(path);

    /// <summary>The record with this sequence number, or null.</summary>
    public MessageLogEntry? Get(long sequence)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {MessageLogDatabase.Columns} FROM records WHERE seq = $seq;";
        command.Parameters.AddWithValue("$seq", sequence);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadEntry(reader) : null;
    }

    /// <summary>Every record of a message id (request and response, either direction), in sequence order.</summary>
    public IReadOnlyList<MessageLogEntry> FindByMessageId(string messageId)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {MessageLogDatabase.Columns} FROM records WHERE message_id = $id ORDER BY seq;";
        command.Parameters.AddWithValue("$id", messageId);
        using var reader = command.ExecuteReader();
        var entries = new List<MessageLogEntry>();
        while (reader.Read())
        {
            entries.Add(ReadEntry(reader));
        }

        return entries;
    }

    /// <summary>How many records there are (less than <see cref="LastSequence"/> if some were deleted). Scans an index.</summary>
    public long Count()
    {
        using var connection = OpenConnection();
        return Sql.ScalarInt64(connection, null, "SELECT COUNT(*) FROM records;");
    }

    /// <summary>The highest sequence number, 0 for an empty log.</summary>
    public long LastSequence()
    {
        using var connection = OpenConnection();
        return ReadLastSequence(connection);
    }

    /// <summary>
    /// Recomputes the chain over <paramref name="fromSequence"/>..<paramref name="toSequence"/>
    /// (to the last record when null) and names the first record that is missing, unlinked,
    /// altered, or whose body does not match its hash. Records are streamed in chunks, never
    /// loaded all at once. A range that starts after 1 takes the stored hash of the record
    /// before it as given (that record itself is not checked).
    /// </summary>
    /// <remarks>
    /// A hash chain cannot show that records were cut off the end, nor a chain recomputed from
    /// the edit onwards by someone with write access: that needs the signed, time-stamped tree
    /// heads kept outside the log (see docs/design/message-log.md).
    /// </remarks>
    public MessageLogVerification Verify(long fromSequence = 1, long? toSequence = null) => VerifyChain(fromSequence, toSequence, null, null);

    /// <summary>
    /// <see cref="Verify"/> with hooks: <paramref name="check"/> sees every record on the worker
    /// that read it, in no order, and what it answers comes back with the record; <paramref name="verified"/>
    /// sees every record that passed the chain checks, in order, and may stop the walk by answering
    /// false (the result then counts the records seen so far as valid). One walk serves both the
    /// plain chain check and the full audit verification, so the two cannot drift apart.
    /// </summary>
    /// <remarks>
    /// Chunks of <see cref="VerifyChunk"/> records are read on up to <paramref name="workers"/>
    /// connections at once (default: one per core), each with everything that depends on a record
    /// alone checked where it is read (RecordChunk): the record hash depends only on the row's own
    /// columns and <c>prev_hash</c>. The links, the missing records and the streams are checked
    /// here, in order. Each chunk is its own short read, as before: a long verify never pins the WAL.
    /// </remarks>
    internal MessageLogVerification VerifyChain(long fromSequence, long? toSequence, RecordCheck? check, RecordVisitor? verified, int workers = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromSequence, 1);
        if (toSequence is { } to)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(to, fromSequence - 1, nameof(toSequence));
        }

        byte[] expectedPrevious;
        long last;
        using (var connection = OpenConnection())
        {
            last = toSequence ?? ReadLastSequence(connection);
            CheckTextEncoding(connection);

            // Records archived and pruned from this file: the chain goes on from the last archived hash.
            var (prunedThrough, prunedHash) = PrunedThrough(connection);
            if (prunedThrough > 0 && fromSequence <= prunedThrough + 1)
            {
                fromSequence = prunedThrough + 1;
                expectedPrevious = prunedHash!;
            }
            else if (fromSequence == 1)
            {
                expectedPrevious = MessageLogHash.Genesis();
            }
            else
            {
                var anchor = StoredHash(connection, fromSequence - 1);
                if (anchor is null)
                {
                    return MessageLogVerification.Invalid(
                        0, fromSequence - 1, MessageLogProblems.MissingRecord,
                        $"record {fromSequence - 1}, the anchor of the range, is missing");
                }

                expectedPrevious = anchor;
            }
        }

        // Streams are checked from the range's start only if nothing of the log comes before it.
        var streams = new StreamRecordChecks(fromStart: fromSequence == 1);
        using var stop = new CancellationTokenSource();
        var reads = new Queue<Task<RecordChunk>>();
        var nextChunk = fromSequence;
        var inFlight = (workers > 0 ? workers : Environment.ProcessorCount) + 1;
        var expected = fromSequence;
        long passed = 0;
        try
        {
            while (true)
            {
                while (reads.Count < inFlight && nextChunk <= last)
                {
                    var (first, end) = (nextChunk, Math.Min(last, nextChunk + VerifyChunk - 1));
                    reads.Enqueue(Task.Run(() => ReadChunk(first, end, check, stop.Token), stop.Token));
                    nextChunk = end + 1;
                }

                if (reads.Count == 0)
                {
                    break;
                }

                using var chunk = reads.Dequeue().GetAwaiter().GetResult();
                for (var i = 0; i < chunk.Count; i++)
                {
                    ref readonly var row = ref chunk.Rows[i];
                    var sequence = row.Sequence;
                    if (sequence != expected)
                    {
                        return MessageLogVerification.Invalid(
                            passed, expected, MessageLogProblems.MissingRecord,
                            $"record {expected} is missing (the next present is {sequence})");
                    }

                    var record = new ScannedRecord(chunk, i);
                    var problem = row.Unreadable ? MessageLogProblems.HashMismatch
                        : !CryptographicOperations.FixedTimeEquals(chunk.Span(row.PreviousHash), expectedPrevious) ? MessageLogProblems.BrokenLink
                        : row.Problem;
                    if (problem is not null)
                    {
                        return MessageLogVerification.Invalid(passed, sequence, problem, Describe(problem, sequence));
                    }

                    if (streams.Check(record) is { } stream)
                    {
                        return MessageLogVerification.Invalid(passed, sequence, stream.Problem, stream.Detail);
                    }

                    record.Hash.CopyTo(expectedPrevious.Length == MessageLogHash.Size ? expectedPrevious : expectedPrevious = new byte[MessageLogHash.Size]);
                    expected++;
                    passed++;
                    if (verified is not null && !verified(record))
                    {
                        return MessageLogVerification.Valid(passed);
                    }
                }
            }

            return expected > last
                ? MessageLogVerification.Valid(passed)
                : MessageLogVerification.Invalid(
                    passed, expected, MessageLogProblems.MissingRecord,
                    $"record {expected} is missing (no record from there to {last})");
        }
        finally
        {
            // Reads still in flight past a problem or a stop: cancelled, and their buffers returned.
            stop.Cancel();
            foreach (var read in reads)
            {
                try
                {
                    read.GetAwaiter().GetResult().Dispose();
                }
                catch (Exception e) when (e is OperationCanceledException or SqliteException)
                {
                    // Past the first problem nothing later counts; a read that failed there neither.
                }
            }
        }
    }

    private RecordChunk ReadChunk(long from, long to, RecordCheck? check, CancellationToken cancellation)
    {
        using var connection = OpenConnection();
        return RecordChunk.Read(connection, from, to, check, cancellation);
    }

    /// <summary>The walk hashes text as SQLite holds it, which must be the UTF-8 the log hashed: a message log is always made so.</summary>
    private static void CheckTextEncoding(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA encoding;";
        if (command.ExecuteScalar() is not "UTF-8")
        {
            throw new InvalidOperationException("The message log's text encoding is not UTF-8; this program makes every log in UTF-8.");
        }
    }

    /// <summary>Closes the pooled read connections (they hold the files open).</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private static string Describe(string problem, long sequence) => problem switch
    {
        MessageLogProblems.BrokenLink => $"record {sequence} does not link to the hash of record {sequence - 1}",
        MessageLogProblems.BodyHashMismatch => $"the body stored in record {sequence} does not match its SHA-256",
        _ => $"the content of record {sequence} does not match its hash",
    };

    private static long ReadLastSequence(SqliteConnection connection) =>
        Sql.ScalarInt64(connection, null, "SELECT COALESCE(MAX(seq), 0) FROM records;");

    /// <summary>The last sequence whose records were archived and pruned from this file (0 when none).</summary>
    public long PrunedThrough()
    {
        using var connection = OpenConnection();
        return PrunedThrough(connection).Sequence;
    }

    /// <summary>The last sequence whose records were archived and pruned, with its hash; (0, null) when none.</summary>
    internal static (long Sequence, byte[]? Hash) PrunedThrough(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_seq, last_hash FROM archives WHERE pruned_at IS NOT NULL ORDER BY to_seq DESC LIMIT 1;";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : (0, null);
    }

    private static byte[]? StoredHash(SqliteConnection connection, long sequence)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT hash FROM records WHERE seq = $seq;";
        command.Parameters.AddWithValue("$seq", sequence);
        return command.ExecuteScalar() as byte[];
    }

    /// <summary>Reads a row selected with <see cref="MessageLogDatabase.Columns"/>.</summary>
    private static MessageLogEntry ReadEntry(SqliteDataReader reader)
    {
        var record = new MessageLogRecord
        {
            At = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
            MessageId = reader.GetString(2),
            // checked: a stored value beyond int must not wrap onto a valid direction and hash like it.
            Direction = (MessageDirection)checked((int)reader.GetInt64(3)),
            Client = reader.GetString(4),
            Service = reader.GetString(5),
            UserId = reader.GetString(6),
            SubjectId = reader.IsDBNull(7) ? null : reader.GetString(7),
            Issue = reader.GetString(8),
            Status = reader.GetString(9),
            BodySha256 = reader.GetFieldValue<byte[]>(10),
            Signature = reader.GetFieldValue<byte[]>(11),
            SignerCertificateSha256 = reader.IsDBNull(12) ? null : reader.GetFieldValue<byte[]>(12),
            CorrelationId = reader.GetString(13),
            Header = reader.GetFieldValue<byte[]>(16),
            Body = reader.IsDBNull(17) ? null : reader.GetFieldValue<byte[]>(17),
        };
        return new MessageLogEntry(reader.GetInt64(0), record, reader.GetFieldValue<byte[]>(14), reader.GetFieldValue<byte[]>(15));
    }

    private SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
