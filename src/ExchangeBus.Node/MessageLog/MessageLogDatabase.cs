// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The message log's SQLite file: its migrations, statements, and how its connections are
/// opened (the shared plumbing in <c>ExchangeBus.Core.Storage</c> does the rest).
/// </summary>
internal static class MessageLogDatabase
{
    private static readonly string[] Migrations =
    [
        // 1: the record table and the indexes the auditors' queries use.
        // STRICT, so a value of the wrong type cannot be stored (and hashed differently from how
        // it reads back). header and body are the last columns: SQLite walks a large value's
        // overflow pages to reach any column after it, and queries and link checks need only
        // the small columns. The hash encoding has its own, fixed field order.
        """
        CREATE TABLE records (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            direction INTEGER NOT NULL,
            client TEXT NOT NULL,
            service TEXT NOT NULL,
            user_id TEXT NOT NULL,
            subject_id TEXT,
            issue TEXT NOT NULL,
            status TEXT NOT NULL,
            body_sha256 BLOB NOT NULL,
            signature BLOB NOT NULL,
            signer_cert_sha256 BLOB,
            correlation_id TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL,
            header BLOB NOT NULL,
            body BLOB) STRICT;
        CREATE INDEX records_by_message_id ON records(message_id);
        CREATE INDEX records_by_subject ON records(subject_id, at) WHERE subject_id IS NOT NULL;
        CREATE INDEX records_by_client ON records(client, at);
        CREATE INDEX records_by_service ON records(service, at);
        CREATE INDEX records_by_user ON records(user_id, at);
        CREATE INDEX records_by_at ON records(at);
        """,

        // 2: the evidence beside the records, and the Merkle tree over them (docs/design/merkle.md).
        // blobs: certificates and OCSP responses, content-addressed, each kept once however many
        // records name it. record_ocsp: which OCSP response travelled with which record.
        // merkle_nodes: the complete subtrees of the tree whose leaf i is record i + 1 (levels 1
        // and up; a leaf hash is recomputed from records.hash), so a root or proof for any size
        // costs O(log n) reads. tree_heads: the signed, time-stamped heads, oldest first.
        """
        CREATE TABLE blobs (sha256 BLOB PRIMARY KEY, der BLOB NOT NULL) STRICT, WITHOUT ROWID;
        CREATE TABLE record_ocsp (seq INTEGER PRIMARY KEY, ocsp_sha256 BLOB NOT NULL) STRICT;
        CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID;
        CREATE TABLE tree_heads (
            tree_size INTEGER PRIMARY KEY,
            root_hash BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            tree_head BLOB NOT NULL,
            signature BLOB NOT NULL,
            signer_certificate BLOB NOT NULL,
            token BLOB NOT NULL,
            submitted_at INTEGER) STRICT;
        """,

        // 3: closed periods exported to archive files (docs/audit.md, "Archiving"), each linked to
        // the one before by its SHA-256. pruned_at: when its records left this file (they stay
        // provable: their leaf hashes move to merkle_nodes level 0, their last hash stays here).
        """
        CREATE TABLE archives (
            to_seq INTEGER PRIMARY KEY,
            from_seq INTEGER NOT NULL,
            last_hash BLOB NOT NULL,
            file_name TEXT NOT NULL,
            sha256 BLOB NOT NULL,
            previous_sha256 BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            pruned_at INTEGER) STRICT;
        """,
    ];

    public const string InsertBlob = "INSERT OR IGNORE INTO blobs (sha256, der) VALUES ($sha256, $der);";

    public const string InsertRecordOcsp = "INSERT INTO record_ocsp (seq, ocsp_sha256) VALUES ($seq, $sha256);";

    /// <summary>The columns in the order <see cref="MessageLogReader"/> reads them.</summary>
    public const string Columns =
        "seq, at, message_id, direction, client, service, user_id, subject_id, issue, status, " +
        "body_sha256, signature, signer_cert_sha256, correlation_id, prev_hash, hash, header, body";

    public const string Insert = """
        INSERT INTO records (seq, at, message_id, direction, client, service, user_id, subject_id, issue, status,
            body_sha256, signature, signer_cert_sha256, correlation_id, prev_hash, hash, header, body)
        VALUES ($seq, $at, $message_id, $direction, $client, $service, $user_id, $subject_id, $issue, $status,
            $body_sha256, $signature, $signer_cert_sha256, $correlation_id, $prev_hash, $hash, $header, $body);
        """;

    public static int CurrentSchemaVersion => Migrations.Length;

    /// <summary>
    /// The single writer's connection: not pooled, so closing it really closes the file. The log
    /// holds personal data, so the file is owner-only from the first byte.
    /// </summary>
    public static SqliteConnection OpenWriter(string path, MessageLogOptions options) => SqliteConnections.Open(path, new SqliteOpenOptions
    {
        Pooling = false,
        OwnerOnly = true,
        Wal = true,
        Synchronous = options.Synchronous == MessageLogSynchronous.Full ? SqliteSynchronous.Full : SqliteSynchronous.Normal,
        BusyTimeout = options.BusyTimeout,
        BusyTimeoutBoundsCommands = true,

        // cache_size: 16 MiB of page cache (SQLite's default is 2 MiB). Each record goes into
        // six indexes; on a log of millions of records their pages must stay in memory.
        Pragmas =
        [
            string.Create(CultureInfo.InvariantCulture, $"wal_autocheckpoint={options.WalAutoCheckpointPages}"),
            string.Create(CultureInfo.InvariantCulture, $"journal_size_limit={64 * 1024 * 1024}"),
            "cache_size=-16384",
        ],
    });

    /// <summary>Readers: pooled and read-only, so no query path can ever write to the log.</summary>
    public static string ReaderConnectionString(string path) =>
        SqliteConnections.ConnectionString(path, new SqliteOpenOptions { Mode = SqliteOpenMode.ReadOnly, Pooling = true });

    /// <summary>Brings the schema up to date; returns the version it found.</summary>
    /// <exception cref="StorageException"><see cref="StorageErrors.SchemaTooNew"/>: written by a newer release.</exception>
    public static int Migrate(SqliteConnection connection) => SqliteMigrations.Migrate(connection, Migrations, "message log");

    public static int SchemaVersion(SqliteConnection connection) => SqliteMigrations.Version(connection);

    /// <summary>The last record's sequence number and hash, or (0, genesis) for an empty log.</summary>
    public static (long Sequence, byte[] Hash) ReadTail(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1;";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : (0, MessageLogHash.Genesis());
    }
}
