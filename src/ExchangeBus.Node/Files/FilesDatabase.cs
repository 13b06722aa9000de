// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Node.Files;

/// <summary>A file this node accepted from one of its systems.</summary>
public sealed record SentFile(FileDescription Description, byte[] ChunkHashes, byte[] Acceptance, DateTimeOffset AcceptedAt, IReadOnlyList<string> Recipients);

/// <summary>One recipient's delivery of a sent file.</summary>
public sealed record OutboxEntry(
    string Sender, string FileId, string Recipient, DeliveryState State, int Attempts, DateTimeOffset NextAttemptAt,
    string Reason, long ResumedFrom, byte[] Manifest, byte[]? Receipt, DateTimeOffset UpdatedAt);

/// <summary>A delivery that is due: its key only, so the worker's frequent look for work reads no manifests.</summary>
public sealed record DueDelivery(string Sender, string FileId, string Recipient);

/// <summary>A file this node received for one of its subsystems.</summary>
public sealed record InboxEntry(
    string Recipient, FileDescription Description, string SenderNode, byte[] Manifest, byte[] Receipt,
    DeliveryState State, DateTimeOffset ReceivedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Where a listing page ended: the last row's sort key (dossier, version, acceptance or arrival
/// time in Unix milliseconds, sender, file id), which is unique per row.
/// </summary>
public sealed record ListPosition(string DossierId, uint DossierVersion, long At, string Sender, string FileId);

/// <summary>
/// <c>files.db</c>: what was sent (files, one outbox row per recipient, written in the same
/// transaction) and what was received (inbox), in SQLite with WAL and full sync, so a state a
/// caller was told survives a crash. Writes are group-committed by Core's
/// <see cref="GroupCommitWriter"/>: each write runs in its own savepoint, and every write queued
/// while a commit is flushing goes into the next transaction, so concurrent deliveries share one
/// fsync instead of queueing for one each (a write's task completes only once its transaction is
/// on disk). Reads use a second connection, so they never wait behind a flush.
/// <para>
/// The message-log records of a state change are written into <c>log_outbox</c> in the same
/// transaction as the state, appended to the message log once it commits, and only then is the
/// caller told; a row is deleted (in a later transaction) once the log has it. A crash anywhere in
/// between leaves the rows, and <see cref="ReplayLogAsync"/> appends at the next start whichever
/// the log does not already hold: a state never exists without its records.
/// </para>
/// </summary>
public sealed class FilesDatabase : IDisposable
{
    private static readonly string[] Migrations =
    [
        // 1: the schema as it was before files.db had versions, every statement conditional, so
        // a file written then takes it unchanged (and drops the indexes older releases made).
        """
        CREATE TABLE IF NOT EXISTS files (
            sender TEXT NOT NULL, file_id TEXT NOT NULL, dossier_id TEXT NOT NULL, dossier_version INTEGER NOT NULL,
            subject_id TEXT NOT NULL, content_type TEXT NOT NULL, file_name TEXT NOT NULL, size INTEGER NOT NULL,
            sha256 BLOB NOT NULL, chunk_bytes INTEGER NOT NULL, recipients TEXT NOT NULL, accepted_at INTEGER NOT NULL,
            acceptance BLOB NOT NULL, chunk_hashes BLOB NOT NULL,
            PRIMARY KEY (sender, file_id)) STRICT;
        DROP INDEX IF EXISTS files_by_dossier;
        CREATE INDEX IF NOT EXISTS files_listing ON files(sender, dossier_id, dossier_version, accepted_at, file_id);
        CREATE INDEX IF NOT EXISTS files_by_content ON files(sha256);
        CREATE TABLE IF NOT EXISTS outbox (
            sender TEXT NOT NULL, file_id TEXT NOT NULL, recipient TEXT NOT NULL, state INTEGER NOT NULL,
            attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, reason TEXT NOT NULL, resumed_from INTEGER NOT NULL,
            updated_at INTEGER NOT NULL, manifest BLOB NOT NULL, receipt BLOB,
            PRIMARY KEY (sender, file_id, recipient)) STRICT;
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_attempt_at) WHERE state IN (1, 2);
        CREATE INDEX IF NOT EXISTS outbox_states ON outbox(sender, file_id, state);
        CREATE TABLE IF NOT EXISTS inbox (
            recipient TEXT NOT NULL, sender TEXT NOT NULL, file_id TEXT NOT NULL, sender_node TEXT NOT NULL,
            dossier_id TEXT NOT NULL, dossier_version INTEGER NOT NULL, subject_id TEXT NOT NULL, content_type TEXT NOT NULL,
            file_name TEXT NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL, chunk_bytes INTEGER NOT NULL,
            state INTEGER NOT NULL, received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
            manifest BLOB NOT NULL, receipt BLOB NOT NULL,
            PRIMARY KEY (recipient, sender, file_id)) STRICT;
        DROP INDEX IF EXISTS inbox_pending;
        CREATE INDEX IF NOT EXISTS inbox_arrivals ON inbox(recipient) WHERE state = 3;
        DROP INDEX IF EXISTS inbox_by_dossier;
        CREATE INDEX IF NOT EXISTS inbox_listing ON inbox(recipient, dossier_id, dossier_version, received_at, sender, file_id);
        CREATE INDEX IF NOT EXISTS inbox_by_content ON inbox(sha256);
        CREATE INDEX IF NOT EXISTS inbox_by_file ON inbox(recipient, file_id);
        CREATE TABLE IF NOT EXISTS log_outbox (id INTEGER PRIMARY KEY, record BLOB NOT NULL) STRICT;
        """,
    ];

    /// <summary>The writer's connection: WAL and full sync (a state a caller was told survives a power cut).</summary>
    private static readonly SqliteOpenOptions WriteOptions = new()
    {
        Wal = true,
        Synchronous = SqliteSynchronous.Full,
        BusyTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>The readers' connection: query-only, so no read path can write.</summary>
    private static readonly SqliteOpenOptions ReadOptions = new()
    {
        BusyTimeout = TimeSpan.FromSeconds(5),
        QueryOnly = true,
    };

    private const string FileColumns = "sender, file_id, dossier_id, dossier_version, subject_id, content_type, file_name, size, sha256, chunk_bytes, recipients, accepted_at, acceptance, chunk_hashes";
    private const string OutboxColumns = "sender, file_id, recipient, state, attempts, next_attempt_at, reason, resumed_from, manifest, receipt, updated_at";
    private const string InboxColumns = "recipient, sender, file_id, sender_node, dossier_id, dossier_version, subject_id, content_type, file_name, size, sha256, chunk_bytes, manifest, receipt, state, received_at, updated_at";
    private const int InboxColumnCount = 17;

    private static readonly IReadOnlyList<MessageLogRecord> NoRecords = [];

    private readonly SqliteMessageLog _log;
    private readonly Lock _readGate = new();
    private readonly SqliteConnection _read;
    private readonly Writer _writer;
    private readonly Lock _drainedGate = new();
    private List<long> _drained = [];

    private FilesDatabase(string path, SqliteConnection write, SqliteConnection read, SqliteMessageLog log)
    {
        _read = read;
        _log = log;
        _writer = new Writer(this, path, write);
    }

    /// <summary>The schema version this code writes.</summary>
    public static int CurrentSchemaVersion => Migrations.Length;

    /// <param name="path">The database file.</param>
    /// <param name="log">The node's message log, which the records of each state change go to.</param>
    /// <exception cref="StorageException"><see cref="StorageErrors.SchemaTooNew"/>: written by a newer release.</exception>
    public static FilesDatabase Open(string path, SqliteMessageLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var write = SqliteConnections.Open(path, WriteOptions);
        SqliteConnection? read = null;
        try
        {
            SqliteMigrations.Migrate(write, Migrations, "file sync database");
            read = SqliteConnections.Open(path, ReadOptions);
            return new FilesDatabase(path, write, read, log);
        }
        catch
        {
            read?.Dispose();
            write.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The file and one outbox row per recipient, with <paramref name="log"/>, in one transaction;
    /// false (and nothing logged) when the id was taken meanwhile.
    /// </summary>
    public Task<bool> InsertSentAsync(SentFile file, IReadOnlyList<OutboxEntry> outbox, IReadOnlyList<MessageLogRecord> log) => WriteAsync(transaction =>
    {
        var d = file.Description;
        using (var command = Command(transaction, $"INSERT OR IGNORE INTO files ({FileColumns}) VALUES ($sender, $file_id, $dossier_id, $dossier_version, $subject_id, $content_type, $file_name, $size, $sha256, $chunk_bytes, $recipients, $accepted_at, $acceptance, $chunk_hashes);"))
        {
            AddDescription(command, d);
            command.Parameters.AddWithValue("$recipients", string.Join(' ', file.Recipients));
            command.Parameters.AddWithValue("$accepted_at", file.AcceptedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$acceptance", file.Acceptance);
            command.Parameters.AddWithValue("$chunk_hashes", file.ChunkHashes);
            if (command.ExecuteNonQuery() == 0)
            {
                return false;
            }
        }

        foreach (var entry in outbox)
        {
            using var command = Command(transaction, $"INSERT INTO outbox ({OutboxColumns}) VALUES ($sender, $file_id, $recipient, $state, $attempts, $next, $reason, $resumed, $manifest, $receipt, $updated);");
            AddOutbox(command, entry);
            command.ExecuteNonQuery();
        }

        return true;
    }, inserted => inserted ? log : NoRecords);

    public SentFile? GetSent(string sender, string fileId)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT {FileColumns} FROM files WHERE sender = $s AND file_id = $f;");
            command.Parameters.AddWithValue("$s", sender);
            command.Parameters.AddWithValue("$f", fileId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadSent(reader) : null;
        }
    }

    /// <summary>
    /// One page of the files a subsystem sent, in listing order (dossier, version, acceptance
    /// time, file id: unique, so the order is total), after <paramref name="after"/> when given;
    /// each with its state over its recipients (failed if one failed, else the lowest), read in the
    /// same query so a page costs one query whatever its size.
    /// </summary>
    public IReadOnlyList<(SentFile File, DeliveryState State)> ListSent(string sender, string? dossierId, ListPosition? after, int limit)
    {
        lock (_readGate)
        {
            using var command = Command(
                $"SELECT {FileColumns}, (SELECT CASE WHEN MAX(o.state = 5) = 1 THEN 5 ELSE MIN(o.state) END FROM outbox o WHERE o.sender = f.sender AND o.file_id = f.file_id) " +
                $"FROM files f WHERE sender = $s AND ($d IS NULL OR dossier_id = $d){After(after, "accepted_at")} " +
                "ORDER BY dossier_id, dossier_version, accepted_at, sender, file_id LIMIT $limit;");
            command.Parameters.AddWithValue("$s", sender);
            command.Parameters.AddWithValue("$d", (object?)dossierId ?? DBNull.Value);
            AddPage(command, after, limit);
            return ReadAll(command, r => (ReadSent(r), r.IsDBNull(14) ? DeliveryState.Unspecified : (DeliveryState)r.GetInt64(14)));
        }
    }

    public IReadOnlyList<OutboxEntry> Outbox(string sender, string fileId)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT {OutboxColumns} FROM outbox WHERE sender = $s AND file_id = $f ORDER BY recipient;");
            command.Parameters.AddWithValue("$s", sender);
            command.Parameters.AddWithValue("$f", fileId);
            return ReadAll(command, ReadOutbox);
        }
    }

    /// <summary>
    /// Deliveries to attempt now: accepted, or interrupted while sending (a restart), and due.
    /// Keys only: the worker asks after every accepted file and every finished delivery, mostly
    /// for rows it is already running or holding back, and a row's manifest is kilobytes.
    /// </summary>
    public IReadOnlyList<DueDelivery> Due(DateTimeOffset now, int limit)
    {
        lock (_readGate)
        {
            using var command = Command("SELECT sender, file_id, recipient FROM outbox WHERE state IN (1, 2) AND next_attempt_at <= $now ORDER BY next_attempt_at LIMIT $limit;");
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$limit", limit);
            return ReadAll(command, r => new DueDelivery(r.GetString(0), r.GetString(1), r.GetString(2)));
        }
    }

    /// <summary>One delivery's row, or null when there is none.</summary>
    public OutboxEntry? GetOutbox(string sender, string fileId, string recipient)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT {OutboxColumns} FROM outbox WHERE sender = $s AND file_id = $f AND recipient = $r;");
            command.Parameters.AddWithValue("$s", sender);
            command.Parameters.AddWithValue("$f", fileId);
            command.Parameters.AddWithValue("$r", recipient);
            return ReadAll(command, ReadOutbox).SingleOrDefault();
        }
    }

    /// <summary>When the next delivery falls due, if any is waiting.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_readGate)
        {
            using var command = Command("SELECT MIN(next_attempt_at) FROM outbox WHERE state IN (1, 2);");
            return command.ExecuteScalar() is long at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
        }
    }

    /// <summary>Makes every delivery that was running (or waiting to retry) due now: called once at start.</summary>
    public void ReleaseLeases(DateTimeOffset now) => _writer.WriteAsync(transaction =>
    {
        using var command = Command(transaction, "UPDATE outbox SET next_attempt_at = $now WHERE state = 2 AND next_attempt_at > $now;");
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery();
    }).AsTask().GetAwaiter().GetResult();

    /// <summary>A delivery that failed on this node's side (disk, database) is tried again at <paramref name="at"/>.</summary>
    public Task PostponeAsync(string sender, string fileId, string recipient, DateTimeOffset at) => WriteAsync(transaction =>
    {
        using var command = Command(transaction, "UPDATE outbox SET next_attempt_at = $at WHERE sender = $s AND file_id = $f AND recipient = $r AND state = 2;");
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$s", sender);
        command.Parameters.AddWithValue("$f", fileId);
        command.Parameters.AddWithValue("$r", recipient);
        return command.ExecuteNonQuery();
    });

    /// <summary>A delivery's new state, with its message-log records (none for a lease renewal).</summary>
    public Task UpdateOutboxAsync(OutboxEntry entry, IReadOnlyList<MessageLogRecord> log) => WriteAsync(transaction =>
    {
        using var command = Command(transaction, """
            UPDATE outbox SET state = $state, attempts = $attempts, next_attempt_at = $next, reason = $reason,
                resumed_from = $resumed, receipt = $receipt, updated_at = $updated, manifest = $manifest
            WHERE sender = $sender AND file_id = $file_id AND recipient = $recipient;
            """);
        AddOutbox(command, entry);
        return command.ExecuteNonQuery();
    }, _ => log);

    /// <summary>
    /// Puts a failed delivery back in the queue, due at <paramref name="now"/>, with a fresh
    /// attempt budget (no attempts, no reason: the failure is in the message log, not lost), and
    /// writes <paramref name="log"/> in the same transaction. Only a row still failed changes:
    /// false (nothing logged) when it was not, or is no longer, in that state.
    /// </summary>
    public Task<bool> RetryFailedAsync(string sender, string fileId, string recipient, DateTimeOffset now, MessageLogRecord log) => WriteAsync(transaction =>
    {
        using var command = Command(transaction, """
            UPDATE outbox SET state = $accepted, attempts = 0, next_attempt_at = $now, reason = '', updated_at = $now
            WHERE sender = $s AND file_id = $f AND recipient = $r AND state = $failed;
            """);
        command.Parameters.AddWithValue("$accepted", (long)DeliveryState.Accepted);
        command.Parameters.AddWithValue("$failed", (long)DeliveryState.Failed);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$s", sender);
        command.Parameters.AddWithValue("$f", fileId);
        command.Parameters.AddWithValue("$r", recipient);
        return command.ExecuteNonQuery() > 0;
    }, changed => changed ? [log] : NoRecords);

    public InboxEntry? GetReceived(string recipient, string sender, string fileId)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT {InboxColumns} FROM inbox WHERE recipient = $r AND sender = $s AND file_id = $f;");
            command.Parameters.AddWithValue("$r", recipient);
            command.Parameters.AddWithValue("$s", sender);
            command.Parameters.AddWithValue("$f", fileId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadInbox(reader) : null;
        }
    }

    public IReadOnlyList<InboxEntry> ReceivedByFileId(string recipient, string fileId)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT {InboxColumns} FROM inbox WHERE recipient = $r AND file_id = $f ORDER BY sender;");
            command.Parameters.AddWithValue("$r", recipient);
            command.Parameters.AddWithValue("$f", fileId);
            return ReadAll(command, ReadInbox);
        }
    }

    /// <summary>
    /// Records a received file. In the same transaction, a newer version of the same sender's
    /// dossier supersedes the unacknowledged older ones for this recipient; a file older than a
    /// version already there arrives superseded. Returns the state the file got; <paramref name="log"/>
    /// gives the records for it, written in the same transaction.
    /// </summary>
    public Task<DeliveryState> InsertReceivedAsync(InboxEntry entry, Func<DeliveryState, IReadOnlyList<MessageLogRecord>> log) => WriteAsync(transaction =>
    {
        var d = entry.Description;
        var state = DeliveryState.Delivered;
        if (d.DossierId.Length > 0)
        {
            using (var newer = Command(transaction, "SELECT COUNT(*) FROM inbox WHERE recipient = $r AND sender = $s AND dossier_id = $d AND dossier_version > $v;"))
            {
                newer.Parameters.AddWithValue("$r", entry.Recipient);
                newer.Parameters.AddWithValue("$s", d.Sender.ToString());
                newer.Parameters.AddWithValue("$d", d.DossierId);
                newer.Parameters.AddWithValue("$v", (long)d.DossierVersion);
                if ((long)newer.ExecuteScalar()! > 0)
                {
                    state = DeliveryState.Superseded;
                }
            }

            using var older = Command(transaction, "UPDATE inbox SET state = $superseded, updated_at = $now WHERE recipient = $r AND sender = $s AND dossier_id = $d AND dossier_version < $v AND state = $delivered;");
            older.Parameters.AddWithValue("$superseded", (long)DeliveryState.Superseded);
            older.Parameters.AddWithValue("$delivered", (long)DeliveryState.Delivered);
            older.Parameters.AddWithValue("$now", entry.ReceivedAt.ToUnixTimeMilliseconds());
            older.Parameters.AddWithValue("$r", entry.Recipient);
            older.Parameters.AddWithValue("$s", d.Sender.ToString());
            older.Parameters.AddWithValue("$d", d.DossierId);
            older.Parameters.AddWithValue("$v", (long)d.DossierVersion);
            older.ExecuteNonQuery();
        }

        using (var command = Command(transaction, $"INSERT INTO inbox ({InboxColumns}) VALUES ($recipient, $sender, $file_id, $sender_node, $dossier_id, $dossier_version, $subject_id, $content_type, $file_name, $size, $sha256, $chunk_bytes, $manifest, $receipt, $state, $received_at, $updated_at);"))
        {
            AddDescription(command, d);
            command.Parameters.AddWithValue("$recipient", entry.Recipient);
            command.Parameters.AddWithValue("$sender_node", entry.SenderNode);
            command.Parameters.AddWithValue("$manifest", entry.Manifest);
            command.Parameters.AddWithValue("$receipt", entry.Receipt);
            command.Parameters.AddWithValue("$state", (long)state);
            command.Parameters.AddWithValue("$received_at", entry.ReceivedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$updated_at", entry.ReceivedAt.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        return state;
    }, log);

    /// <summary>
    /// Delivered, not yet acknowledged, not superseded: what <c>Receive</c> hands out (again), in
    /// arrival order after <paramref name="after"/> (a position this method returned; 0 for the
    /// first). Positions are the rows' ids: rows are inserted by one connection, so a row becomes
    /// visible only after every row with a smaller id, and a cursor that moves past a position
    /// never skips a file that commits later.
    /// </summary>
    public IReadOnlyList<(long Position, InboxEntry Entry)> Pending(string recipient, long after, int limit)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT {InboxColumns}, rowid FROM inbox WHERE recipient = $r AND state = 3 AND rowid > $after ORDER BY rowid LIMIT $limit;");
            command.Parameters.AddWithValue("$r", recipient);
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$limit", limit);
            return ReadAll(command, r => (r.GetInt64(InboxColumnCount), ReadInbox(r)));
        }
    }

    /// <summary>One page of the files a subsystem received, in listing order (dossier, version, arrival, sender, file id), after <paramref name="after"/> when given.</summary>
    public IReadOnlyList<InboxEntry> ListReceived(string recipient, string? dossierId, ListPosition? after, int limit)
    {
        lock (_readGate)
        {
            using var command = Command(
                $"SELECT {InboxColumns} FROM inbox WHERE recipient = $r AND ($d IS NULL OR dossier_id = $d){After(after, "received_at")} " +
                "ORDER BY dossier_id, dossier_version, received_at, sender, file_id LIMIT $limit;");
            command.Parameters.AddWithValue("$r", recipient);
            command.Parameters.AddWithValue("$d", (object?)dossierId ?? DBNull.Value);
            AddPage(command, after, limit);
            return ReadAll(command, ReadInbox);
        }
    }

    /// <summary>Whether any file this node sent or received names this content (its row keeps it in <c>objects/</c>).</summary>
    public bool NamesContent(byte[] sha256)
    {
        lock (_readGate)
        {
            using var command = Command("SELECT EXISTS (SELECT 1 FROM files WHERE sha256 = $h) OR EXISTS (SELECT 1 FROM inbox WHERE sha256 = $h);");
            command.Parameters.AddWithValue("$h", sha256);
            return (long)command.ExecuteScalar()! != 0;
        }
    }

    /// <summary>
    /// Content every file naming it is done with since before <paramref name="doneBefore"/>: each
    /// delivery of a sent file acknowledged or failed, each received file acknowledged, superseded
    /// or failed (its content was lost), none updated since. One pass over the content hashes
    /// (indexed look-ups per hash); run at the sweep, not per call.
    /// </summary>
    public IReadOnlyList<byte[]> FinishedContent(DateTimeOffset doneBefore)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT sha256 FROM (SELECT sha256 FROM files UNION SELECT sha256 FROM inbox) c WHERE {NotNeeded("c.sha256")};");
            command.Parameters.AddWithValue("$before", doneBefore.ToUnixTimeMilliseconds());
            return ReadAll(command, r => r.GetFieldValue<byte[]>(0));
        }
    }

    /// <summary>Whether a file that is not done (or was done since <paramref name="doneBefore"/>) names this content: asked again just before it is removed.</summary>
    public bool ContentNeeded(byte[] sha256, DateTimeOffset doneBefore)
    {
        lock (_readGate)
        {
            using var command = Command($"SELECT NOT ({NotNeeded("$h")});");
            command.Parameters.AddWithValue("$h", sha256);
            command.Parameters.AddWithValue("$before", doneBefore.ToUnixTimeMilliseconds());
            return (long)command.ExecuteScalar()! != 0;
        }
    }

    // Final: acknowledged (4), failed (5), superseded (6).
    private static string NotNeeded(string sha) =>
        $"NOT EXISTS (SELECT 1 FROM files f JOIN outbox o ON o.sender = f.sender AND o.file_id = f.file_id WHERE f.sha256 = {sha} AND (o.state NOT IN (4, 5, 6) OR o.updated_at >= $before)) " +
        $"AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.sha256 = {sha} AND (i.state NOT IN (4, 5, 6) OR i.updated_at >= $before))";

    /// <summary>SQLite's SQLITE_FULL: the disk holding <c>files.db</c> (or its WAL) is full.</summary>
    public static bool IsFull(Exception exception) => exception is SqliteException { SqliteErrorCode: 13 };

    /// <summary>
    /// Marks a delivered (or superseded) file acknowledged, with <paramref name="log"/>; false (and
    /// nothing logged) when there is no such file or it was acknowledged already.
    /// </summary>
    public Task<bool> AcknowledgeAsync(string recipient, string sender, string fileId, DateTimeOffset now, MessageLogRecord log) =>
        SetReceivedStateAsync(recipient, sender, fileId, now, DeliveryState.Acknowledged, from: null, log);

    /// <summary>Fails a delivered, unacknowledged file whose content is gone; false (nothing logged) when it was not in that state.</summary>
    public Task<bool> FailReceivedAsync(string recipient, string sender, string fileId, DateTimeOffset now, MessageLogRecord log) =>
        SetReceivedStateAsync(recipient, sender, fileId, now, DeliveryState.Failed, from: DeliveryState.Delivered, log);

    private Task<bool> SetReceivedStateAsync(string recipient, string sender, string fileId, DateTimeOffset now, DeliveryState state, DeliveryState? from, MessageLogRecord log) => WriteAsync(transaction =>
    {
        // A state set again is not a change: no second record (two acknowledgements at once log one).
        using var command = Command(transaction, "UPDATE inbox SET state = $state, updated_at = $now WHERE recipient = $r AND sender = $s AND file_id = $f AND state <> $state AND ($from IS NULL OR state = $from);");
        command.Parameters.AddWithValue("$state", (long)state);
        command.Parameters.AddWithValue("$from", from is null ? DBNull.Value : (long)from.Value);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$r", recipient);
        command.Parameters.AddWithValue("$s", sender);
        command.Parameters.AddWithValue("$f", fileId);
        return command.ExecuteNonQuery() > 0;
    }, changed => changed ? [log] : NoRecords);

    /// <summary>
    /// Appends to the message log the records a crash left in <c>log_outbox</c> (in the order they
    /// were written) unless the log holds them already, then deletes the rows. Called once at
    /// start, before the node takes calls. A row that cannot be read, or whose record the log
    /// refuses as invalid, is kept and counted; a log that fails to write fails the start.
    /// </summary>
    public async Task<LogReplay> ReplayLogAsync()
    {
        List<(long Id, byte[] Bytes)> rows;
        lock (_readGate)
        {
            using var command = Command("SELECT id, record FROM log_outbox ORDER BY id;");
            rows = ReadAll(command, r => (r.GetInt64(0), r.GetFieldValue<byte[]>(1)));
        }

        var done = new List<long>(rows.Count);
        var appends = new List<Task>(rows.Count);
        int alreadyThere = 0, kept = 0;
        foreach (var (id, bytes) in rows)
        {
            MessageLogRecord record;
            try
            {
                record = MessageLogRecordCodec.Decode(bytes);
                if (_log.FindByMessageId(record.MessageId).Any(e => MessageLogRecordCodec.SameRecord(e.Record, record)))
                {
                    alreadyThere++;
                    done.Add(id);
                    continue;
                }

                // Queued in row order, so the log keeps the order they were written in.
                appends.Add(_log.AppendAsync(record).AsTask());
                done.Add(id);
            }
            catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
            {
                kept++;
            }
        }

        await Task.WhenAll(appends).ConfigureAwait(false);
        if (done.Count > 0)
        {
            await WriteAsync(transaction => DeleteLogRows(transaction, done)).ConfigureAwait(false);
        }

        return new LogReplay(appends.Count, alreadyThere, kept);
    }

    public void Dispose()
    {
        // Writes already queued are committed (their callers are waiting), then the connections close.
        _writer.Dispose();
        lock (_readGate)
        {
            _read.Dispose();
        }
    }

    /// <summary>
    /// Queues a write for the next group commit; the task completes once that transaction is on
    /// disk and the records <paramref name="log"/> gives for the result are in the message log, or
    /// fails with the write's own exception (its savepoint rolled back, the rest of the batch
    /// unharmed), with the commit's (the whole batch rolled back) or with the log's (the state and
    /// its records committed here, the records appended at the next start).
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<SqliteTransaction, T> work, Func<T, IReadOnlyList<MessageLogRecord>>? log = null)
    {
        var (result, records, rows) = await _writer.WriteAsync(transaction =>
        {
            var result = work(transaction);
            var records = log?.Invoke(result) ?? NoRecords;
            var rows = new List<long>(records.Count);
            foreach (var record in records)
            {
                // Checked before anything commits: a record the log would refuse must not leave its
                // state committed without it (this write's savepoint rolls back instead).
                var problems = record.Validate(long.MaxValue);
                if (problems.Count > 0)
                {
                    throw new ArgumentException("A file-sync log record is not valid: " + string.Join("; ", problems));
                }

                rows.Add(InsertLogRow(transaction, record));
            }

            return (result, records, rows);
        }).ConfigureAwait(false);
        if (records.Count == 0)
        {
            return result;
        }

        // Queued together, in order, so the log keeps one state change's records in the order they
        // were written. (Writes committed in one batch were concurrent: their records may interleave.)
        await Task.WhenAll(records.Select(r => _log.AppendAsync(r).AsTask()).ToArray()).ConfigureAwait(false);
        Drained(rows);
        return result;
    }

    /// <summary>These <c>log_outbox</c> rows are in the message log: deleted with the next batch.</summary>
    private void Drained(List<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        lock (_drainedGate)
        {
            _drained.AddRange(ids);
        }
    }

    private List<long> TakeDrained()
    {
        lock (_drainedGate)
        {
            var drained = _drained;
            _drained = [];
            return drained;
        }
    }

    private static long InsertLogRow(SqliteTransaction transaction, MessageLogRecord record)
    {
        using var command = Command(transaction, "INSERT INTO log_outbox (record) VALUES ($record) RETURNING id;");
        command.Parameters.AddWithValue("$record", MessageLogRecordCodec.Encode(record));
        return (long)command.ExecuteScalar()!;
    }

    private static int DeleteLogRows(SqliteTransaction transaction, List<long> ids)
    {
        if (ids.Count == 0)
        {
            return 0;
        }

        using var command = Command(transaction, "DELETE FROM log_outbox WHERE id = $id;");
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        var deleted = 0;
        foreach (var value in ids)
        {
            id.Value = value;
            deleted += command.ExecuteNonQuery();
        }

        return deleted;
    }

    /// <summary>files.db's writer: the rows the log has by now are deleted in each batch's transaction, no commit of their own.</summary>
    private sealed class Writer : GroupCommitWriter
    {
        // Bounds one group commit, so a burst does not make one transaction (and the WAL) huge.
        private const int MaxBatch = 256;

        private readonly FilesDatabase _database;
        private readonly string _path;
        private List<long> _deleting = [];

        public Writer(FilesDatabase database, string path, SqliteConnection connection)
            : base(new GroupCommitOptions { Name = "files-db-writer", MaxBatchSize = MaxBatch, IsolateWrites = true })
        {
            _database = database;
            _path = path;
            Start(connection);
        }

        protected override SqliteConnection Connect() => SqliteConnections.Open(_path, WriteOptions);

        protected override void BatchStarting(SqliteTransaction transaction)
        {
            _deleting = _database.TakeDrained();
            DeleteLogRows(transaction, _deleting);
        }

        // Not deleted after all: the next batch tries again.
        protected override void BatchFailed(int writes, Exception exception) => _database.Drained(_deleting);

        protected override void Stopping(SqliteConnection? connection)
        {
            // Rows whose records are logged: best effort, the next start's replay finds them logged anyway.
            // (None when the last batch failed and closed it.)
            var drained = _database.TakeDrained();
            if (drained.Count == 0 || connection is null)
            {
                return;
            }

            try
            {
                using var transaction = connection.BeginTransaction();
                DeleteLogRows(transaction, drained);
                transaction.Commit();
            }
            catch (SqliteException)
            {
                // Left for the replay.
            }
        }
    }

    /// <summary>A read, on the read connection (callers hold <see cref="_readGate"/>).</summary>
    private SqliteCommand Command(string sql)
    {
        var command = _read.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>A write, in the writer's transaction.</summary>
    private static SqliteCommand Command(SqliteTransaction transaction, string sql)
    {
        var command = transaction.Connection!.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>The keyset condition of a listing page: rows strictly after the last one listed.</summary>
    private static string After(ListPosition? after, string atColumn) => after is null
        ? string.Empty
        : $" AND (dossier_id, dossier_version, {atColumn}, sender, file_id) > ($pd, $pv, $pa, $ps, $pf)";

    private static void AddPage(SqliteCommand command, ListPosition? after, int limit)
    {
        command.Parameters.AddWithValue("$limit", limit);
        if (after is not null)
        {
            command.Parameters.AddWithValue("$pd", after.DossierId);
            command.Parameters.AddWithValue("$pv", (long)after.DossierVersion);
            command.Parameters.AddWithValue("$pa", after.At);
            command.Parameters.AddWithValue("$ps", after.Sender);
            command.Parameters.AddWithValue("$pf", after.FileId);
        }
    }

    private static void AddDescription(SqliteCommand command, FileDescription d)
    {
        command.Parameters.AddWithValue("$sender", d.Sender.ToString());
        command.Parameters.AddWithValue("$file_id", d.FileId);
        command.Parameters.AddWithValue("$dossier_id", d.DossierId);
        command.Parameters.AddWithValue("$dossier_version", (long)d.DossierVersion);
        command.Parameters.AddWithValue("$subject_id", d.SubjectId);
        command.Parameters.AddWithValue("$content_type", d.ContentType);
        command.Parameters.AddWithValue("$file_name", d.FileName);
        command.Parameters.AddWithValue("$size", d.Size);
        command.Parameters.AddWithValue("$sha256", d.Sha256);
        command.Parameters.AddWithValue("$chunk_bytes", (long)d.ChunkBytes);
    }

    private static void AddOutbox(SqliteCommand command, OutboxEntry e)
    {
        command.Parameters.AddWithValue("$sender", e.Sender);
        command.Parameters.AddWithValue("$file_id", e.FileId);
        command.Parameters.AddWithValue("$recipient", e.Recipient);
        command.Parameters.AddWithValue("$state", (long)e.State);
        command.Parameters.AddWithValue("$attempts", (long)e.Attempts);
        command.Parameters.AddWithValue("$next", e.NextAttemptAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$reason", e.Reason);
        command.Parameters.AddWithValue("$resumed", e.ResumedFrom);
        command.Parameters.AddWithValue("$manifest", e.Manifest);
        command.Parameters.AddWithValue("$receipt", (object?)e.Receipt ?? DBNull.Value);
        command.Parameters.AddWithValue("$updated", e.UpdatedAt.ToUnixTimeMilliseconds());
    }

    // files: sender, file_id, dossier_id, dossier_version, subject_id, content_type, file_name, size, sha256, chunk_bytes.
    private static FileDescription ReadDescription(SqliteDataReader r, int at) => new(
        r.GetString(at + 1), SubsystemId.Parse(r.GetString(at)), r.GetString(at + 2), (uint)r.GetInt64(at + 3), r.GetString(at + 4),
        r.GetString(at + 5), r.GetString(at + 6), r.GetInt64(at + 7), r.GetFieldValue<byte[]>(at + 8), (int)r.GetInt64(at + 9));

    private static SentFile ReadSent(SqliteDataReader r) => new(
        ReadDescription(r, 0), r.GetFieldValue<byte[]>(13), r.GetFieldValue<byte[]>(12),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)), r.GetString(10).Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static OutboxEntry ReadOutbox(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), (DeliveryState)r.GetInt64(3), (int)r.GetInt64(4),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), r.GetString(6), r.GetInt64(7), r.GetFieldValue<byte[]>(8),
        r.IsDBNull(9) ? null : r.GetFieldValue<byte[]>(9), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)));

    private static InboxEntry ReadInbox(SqliteDataReader r)
    {
        // inbox: recipient, sender, file_id, sender_node, dossier_id, ...: sender and file id are
        // not next to the rest, so the description is read field by field.
        var description = new FileDescription(
            r.GetString(2), SubsystemId.Parse(r.GetString(1)), r.GetString(4), (uint)r.GetInt64(5), r.GetString(6),
            r.GetString(7), r.GetString(8), r.GetInt64(9), r.GetFieldValue<byte[]>(10), (int)r.GetInt64(11));
        return new InboxEntry(
            r.GetString(0), description, r.GetString(3), r.GetFieldValue<byte[]>(12), r.GetFieldValue<byte[]>(13),
            (DeliveryState)r.GetInt64(14), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(15)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(16)));
    }
}

/// <summary>What <see cref="FilesDatabase.ReplayLogAsync"/> found: records appended now, records the log already had, rows kept because they could not be read or logged.</summary>
public readonly record struct LogReplay(int Appended, int AlreadyLogged, int Kept);
