// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Storage;
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The registry's database: its SQLite file (the default) or, when the settings name one, a
/// PostgreSQL database that several registry instances can share. Its migrations for each
/// engine and how its connections are opened; the shared plumbing in
/// <c>ExchangeBus.Core.Storage</c> does the rest.
/// </summary>
public sealed class RegistryDatabase : IDisposable
{
    public const string FileName = "registry.db";

    /// <summary>The SQLite schema's history, released: never edited, only added to.</summary>
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
    /// The PostgreSQL schema's history, its own from the start: migration 1 is the SQLite schema
    /// as of its migration 4. BYTEA for BLOB; BIGINT for times in milliseconds, sizes, sequence
    /// and version numbers, INTEGER for flags, states and counts as SQLite held them. Text in the
    /// "C" collation: ORDER BY and comparisons by code point, as SQLite's BINARY, whatever the
    /// locale the operator's database was created with. Add a migration to both lists for a change.
    /// </summary>
    private static readonly string[] PostgresMigrations =
    [
        """
        CREATE TABLE settings (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE member_classes (code TEXT COLLATE "C" PRIMARY KEY, description TEXT COLLATE "C" NOT NULL);
        CREATE TABLE members (
            class TEXT COLLATE "C" NOT NULL REFERENCES member_classes(code),
            code TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            enabled INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (class, code));
        CREATE TABLE subsystems (
            class TEXT COLLATE "C" NOT NULL,
            member_code TEXT COLLATE "C" NOT NULL,
            code TEXT COLLATE "C" NOT NULL,
            enabled INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (class, member_code, code),
            FOREIGN KEY (class, member_code) REFERENCES members(class, code));
        CREATE TABLE nodes (
            class TEXT COLLATE "C" NOT NULL,
            member_code TEXT COLLATE "C" NOT NULL,
            node_code TEXT COLLATE "C" NOT NULL,
            address TEXT COLLATE "C" NOT NULL,
            auth_cert_sha256 BYTEA NOT NULL,
            auth_cert_serial TEXT COLLATE "C" NOT NULL,
            registered_at BIGINT NOT NULL,
            PRIMARY KEY (class, member_code, node_code),
            FOREIGN KEY (class, member_code) REFERENCES members(class, code));
        CREATE TABLE registrations (
            id TEXT COLLATE "C" PRIMARY KEY,
            class TEXT COLLATE "C" NOT NULL,
            member_code TEXT COLLATE "C" NOT NULL,
            node_code TEXT COLLATE "C" NOT NULL,
            address TEXT COLLATE "C" NOT NULL,
            auth_csr BYTEA NOT NULL,
            signing_csr BYTEA NOT NULL,
            state INTEGER NOT NULL,
            reason TEXT COLLATE "C" NOT NULL,
            submitted_at BIGINT NOT NULL,
            decided_at BIGINT,
            auth_cert_serial TEXT COLLATE "C",
            signing_cert_serial TEXT COLLATE "C",
            config_version BIGINT NOT NULL DEFAULT 0);
        CREATE INDEX registrations_by_state ON registrations(state);
        CREATE TABLE certificates (
            serial TEXT COLLATE "C" PRIMARY KEY,
            subject TEXT COLLATE "C" NOT NULL,
            profile TEXT COLLATE "C" NOT NULL,
            not_before BIGINT NOT NULL,
            not_after BIGINT NOT NULL,
            der BYTEA NOT NULL,
            issued_at BIGINT NOT NULL,
            revoked_at BIGINT,
            revocation_reason INTEGER);
        CREATE TABLE global_groups (code TEXT COLLATE "C" PRIMARY KEY, description TEXT COLLATE "C" NOT NULL);
        CREATE TABLE global_group_members (
            group_code TEXT COLLATE "C" NOT NULL REFERENCES global_groups(code),
            member TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (group_code, member));
        CREATE TABLE configurations (
            version BIGINT PRIMARY KEY,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            signed BYTEA NOT NULL);
        CREATE TABLE audit_log (
            seq BIGINT PRIMARY KEY,
            at BIGINT NOT NULL,
            actor TEXT COLLATE "C" NOT NULL,
            action TEXT COLLATE "C" NOT NULL,
            accepted INTEGER NOT NULL,
            error_code TEXT COLLATE "C" NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            prev_hash BYTEA NOT NULL,
            hash BYTEA NOT NULL);
        CREATE TABLE tree_heads (
            node TEXT COLLATE "C" NOT NULL,
            tree_size BIGINT NOT NULL,
            root_hash BYTEA NOT NULL,
            tree_head BYTEA NOT NULL,
            signature BYTEA NOT NULL,
            signer_certificate BYTEA NOT NULL,
            time_stamp_token BYTEA NOT NULL,
            received_at BIGINT NOT NULL,
            PRIMARY KEY (node, tree_size));
        CREATE TABLE tree_head_conflicts (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            node TEXT COLLATE "C" NOT NULL,
            error_code TEXT COLLATE "C" NOT NULL,
            held_size BIGINT NOT NULL,
            held_root_hash BYTEA NOT NULL,
            tree_size BIGINT NOT NULL,
            root_hash BYTEA NOT NULL,
            tree_head BYTEA NOT NULL,
            signature BYTEA NOT NULL,
            signer_certificate BYTEA NOT NULL,
            time_stamp_token BYTEA NOT NULL,
            consistency_proof BYTEA NOT NULL,
            received_at BIGINT NOT NULL);
        CREATE INDEX tree_head_conflicts_by_node ON tree_head_conflicts(node);
        CREATE TABLE console_accounts (
            name TEXT COLLATE "C" PRIMARY KEY,
            roles TEXT COLLATE "C" NOT NULL,
            password_hash TEXT NOT NULL,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until BIGINT,
            created_at BIGINT NOT NULL,
            certificate_sha256 TEXT COLLATE "C");
        CREATE UNIQUE INDEX console_accounts_by_certificate ON console_accounts(certificate_sha256);
        """,
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

    private readonly StoreDatabase _store;

    private RegistryDatabase(StoreDatabase store)
    {
        _store = store;
    }

    /// <summary>Where the data is, for messages: registry.db's path, or the PostgreSQL database and server.</summary>
    public string Location => _store.Location;

    public StorageEngine Engine => _store.Engine;

    /// <summary>The engine-neutral database, for what the registry shares with the nodes (console accounts).</summary>
    internal StoreDatabase Store => _store;

    /// <summary>The case-insensitive LIKE of the engine (<see cref="StoreDatabase.Like"/>).</summary>
    internal string Like => _store.Like;

    /// <summary>
    /// Opens and migrates the registry's database: registry.db in <paramref name="dataDirectory"/>
    /// (created if need be), or the PostgreSQL database <paramref name="postgres"/> names when
    /// given (the operator creates the database and its role; the tables are made here).
    /// </summary>
    /// <exception cref="StorageException">
    /// <see cref="StorageErrors.SchemaTooNew"/>: written by a newer release;
    /// <see cref="StorageErrors.InvalidConnectionString"/>, <see cref="StorageErrors.Unavailable"/>: PostgreSQL only.
    /// </exception>
    public static RegistryDatabase Open(string dataDirectory, string? postgres = null)
    {
        var store = string.IsNullOrEmpty(postgres)
            ? StoreDatabase.Sqlite(System.IO.Path.Combine(dataDirectory, FileName), ConnectionOptions)
            : StoreDatabase.Postgres(postgres, "registry");
        try
        {
            store.Migrate(Migrations, PostgresMigrations, "registry database");
            return new RegistryDatabase(store);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The database of a registry `init` made, for what serves or changes it: refused, never
    /// created, when there is none. Without the PostgreSQL setting, a folder whose registry lives
    /// in PostgreSQL would otherwise get an empty registry.db, and the command would then fail
    /// on it with no word of the setting it lacked.
    /// </summary>
    /// <exception cref="RegistryException"><see cref="RegistryErrors.NotInitialised"/>.</exception>
    /// <exception cref="StorageException">As <see cref="Open"/>.</exception>
    public static RegistryDatabase OpenInitialised(string dataDirectory, string? postgres = null)
    {
        if (string.IsNullOrEmpty(postgres) && !File.Exists(System.IO.Path.Combine(dataDirectory, FileName)))
        {
            throw RegistryException.Precondition(RegistryErrors.NotInitialised,
                $"{dataDirectory} holds no {FileName}: run `xbus registry init` first, or give --postgres (the postgres setting) for a registry whose tables are in PostgreSQL.");
        }

        var database = Open(dataDirectory, postgres);
        if (!RegistryStore.IsInitialised(database))
        {
            var location = database.Location;
            database.Dispose();
            throw RegistryException.Precondition(RegistryErrors.NotInitialised, $"{location} holds no registry: run `xbus registry init` first.");
        }

        return database;
    }

    public DbConnection OpenConnection() => _store.Open();

    /// <summary>A transaction that changes the registry: one writer at a time, across instances on PostgreSQL (<see cref="StoreDatabase.BeginWrite"/>).</summary>
    public DbTransaction BeginWrite(DbConnection connection) => _store.BeginWrite(connection);

    /// <summary>The schema version this code expects of registry.db.</summary>
    public static int CurrentSchemaVersion => Migrations.Length;

    /// <summary>The schema version this code expects of a PostgreSQL database.</summary>
    public static int CurrentPostgresSchemaVersion => PostgresMigrations.Length;

    public void Dispose() => _store.Dispose();
}
