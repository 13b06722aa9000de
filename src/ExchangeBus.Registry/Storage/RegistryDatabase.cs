// SPDX-License-Identifier: Apache-2.0
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The registry's SQLite file: opened in WAL mode with full sync (changes are rare and each
/// is the central authority's word, so every commit reaches the disk), schema kept by numbered
/// migrations recorded in <c>schema_version</c>.
/// </summary>
public sealed class RegistryDatabase
{
    public const string FileName = "registry.db";

    private static readonly string[] Migrations =
    [
        // 1: the whole first schema.
        """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE member_classes (code TEXT PRIMARY KEY, description TEXT NOT NULL);
        CREATE TABLE members (
            class TEXT NOT NULL REFERENCES member_classes(code),
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (class, code));
        CREATE TABLE subsystems (
            class TEXT NOT NULL,
            member_code TEXT NOT NULL,
            code TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (class, member_code, code),
            FOREIGN KEY (class, member_code) REFERENCES members(class, code));
        CREATE TABLE nodes (
            class TEXT NOT NULL,
            member_code TEXT NOT NULL,
            node_code TEXT NOT NULL,
            address TEXT NOT NULL,
            auth_cert_sha256 BLOB NOT NULL,
            auth_cert_serial TEXT NOT NULL,
            registered_at INTEGER NOT NULL,
            PRIMARY KEY (class, member_code, node_code),
            FOREIGN KEY (class, member_code) REFERENCES members(class, code));
        CREATE TABLE registrations (
            id TEXT PRIMARY KEY,
            class TEXT NOT NULL,
            member_code TEXT NOT NULL,
            node_code TEXT NOT NULL,
            address TEXT NOT NULL,
            auth_csr BLOB NOT NULL,
            signing_csr BLOB NOT NULL,
            state INTEGER NOT NULL,
            reason TEXT NOT NULL,
            submitted_at INTEGER NOT NULL,
            decided_at INTEGER,
            auth_cert_serial TEXT,
            signing_cert_serial TEXT,
            config_version INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX registrations_by_state ON registrations(state);
        CREATE TABLE certificates (
            serial TEXT PRIMARY KEY,
            subject TEXT NOT NULL,
            profile TEXT NOT NULL,
            not_before INTEGER NOT NULL,
            not_after INTEGER NOT NULL,
            der BLOB NOT NULL,
            issued_at INTEGER NOT NULL,
            revoked_at INTEGER,
            revocation_reason INTEGER);
        CREATE TABLE global_groups (code TEXT PRIMARY KEY, description TEXT NOT NULL);
        CREATE TABLE global_group_members (
            group_code TEXT NOT NULL REFERENCES global_groups(code),
            member TEXT NOT NULL,
            PRIMARY KEY (group_code, member));
        CREATE TABLE configurations (
            version INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            signed BLOB NOT NULL);
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            accepted INTEGER NOT NULL,
            error_code TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL);
        """,

        // 2: nodes' signed tree heads (docs/registry.md, "Tree heads"). Kept for every size a
        // node published, not only the latest: an auditor checks a node's log against any of them.
        // Conflicting heads are kept apart, as evidence: two signed roots for one size, or a head
        // that does not extend the one held, is what a rewritten log looks like.
        """
        CREATE TABLE tree_heads (
            node TEXT NOT NULL,
            tree_size INTEGER NOT NULL,
            root_hash BLOB NOT NULL,
            tree_head BLOB NOT NULL,
            signature BLOB NOT NULL,
            signer_certificate BLOB NOT NULL,
            time_stamp_token BLOB NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (node, tree_size));
        CREATE TABLE tree_head_conflicts (
            id INTEGER PRIMARY KEY,
            node TEXT NOT NULL,
            error_code TEXT NOT NULL,
            held_size INTEGER NOT NULL,
            held_root_hash BLOB NOT NULL,
            tree_size INTEGER NOT NULL,
            root_hash BLOB NOT NULL,
            tree_head BLOB NOT NULL,
            signature BLOB NOT NULL,
            signer_certificate BLOB NOT NULL,
            time_stamp_token BLOB NOT NULL,
            consistency_proof BLOB NOT NULL,
            received_at INTEGER NOT NULL);
        CREATE INDEX tree_head_conflicts_by_node ON tree_head_conflicts(node);
        """,
    ];

    private readonly string _connectionString;

    private RegistryDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>Opens (creating if need be) and migrates the database in <paramref name="dataDirectory"/>.</summary>
    public static RegistryDatabase Open(string dataDirectory)
    {
        var database = new RegistryDatabase(System.IO.Path.Combine(dataDirectory, FileName));
        using var connection = database.OpenConnection();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode=WAL;";
            pragma.ExecuteNonQuery();
        }

        database.Migrate(connection);
        return database;
    }

    public SqliteConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>The schema version this code expects.</summary>
    public static int CurrentSchemaVersion => Migrations.Length;

    private void Migrate(SqliteConnection connection)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);";
            create.ExecuteNonQuery();
        }

        var version = Convert.ToInt32(Scalar(connection, "SELECT COALESCE(MAX(version), 0) FROM schema_version;"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Migrations.Length)
        {
            throw new InvalidOperationException(
                $"{Path} has schema version {version}, newer than this program knows ({Migrations.Length}); refusing to touch it.");
        }

        for (var next = version; next < Migrations.Length; next++)
        {
            // Each migration and its version row commit together, so a crash leaves either both or neither.
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[next];
            command.ExecuteNonQuery();
            command.CommandText = "INSERT INTO schema_version (version) VALUES ($v);";
            command.Parameters.AddWithValue("$v", next + 1);
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
