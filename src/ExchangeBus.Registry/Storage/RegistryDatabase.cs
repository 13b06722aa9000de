// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The registry's SQLite file: its migrations and how its connections are opened (the shared
/// plumbing in <c>ExchangeBus.Core.Storage</c> does the rest).
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

        // 3: the web console's accounts (docs/design/console.md), the table every component's console shares.
        ConsoleAccountTable.Schema,

        // 4: a console account may be bound to an administrator's or auditor's client certificate.
        ConsoleAccountTable.CertificateBinding,
    ];

    /// <summary>
    /// Pooled (registry calls open a connection each), foreign keys on, WAL, full sync (changes
    /// are rare and each is the central authority's word, so every commit reaches the disk).
    /// </summary>
    private static readonly SqliteOpenOptions ConnectionOptions = new()
    {
        Pooling = true,
        ForeignKeys = true,
        Synchronous = SqliteSynchronous.Full,
        BusyTimeout = TimeSpan.FromSeconds(5),
    };

    private RegistryDatabase(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (creating if need be) and migrates the database in <paramref name="dataDirectory"/>.</summary>
    /// <exception cref="StorageException"><see cref="StorageErrors.SchemaTooNew"/>: written by a newer release.</exception>
    public static RegistryDatabase Open(string dataDirectory)
    {
        var database = new RegistryDatabase(System.IO.Path.Combine(dataDirectory, FileName));

        // WAL is a property of the file: set once here, kept by every later connection.
        using var connection = SqliteConnections.Open(database.Path, ConnectionOptions with { Wal = true });
        SqliteMigrations.Migrate(connection, Migrations, "registry database");
        return database;
    }

    public SqliteConnection OpenConnection() => SqliteConnections.Open(Path, ConnectionOptions);

    /// <summary>The schema version this code expects.</summary>
    public static int CurrentSchemaVersion => Migrations.Length;
}
