// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.Configuration;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.WebConsole;

/// <summary>
/// A node's admin.db: the web console's accounts and the node's admin audit log, the record of
/// what people did to this node (docs/design/console.md). Apart from the message log, which is
/// the evidence of exchanges and has its own writer and format; apart from node.json, which the
/// node and the <c>xbus node</c> commands read as a settings file.
/// </summary>
public sealed class NodeAdminDatabase
{
    private static readonly string[] Migrations =
    [
        // 1: the admin audit log and the console's accounts, the tables the registry has too.
        AdminAuditLog.Schema + ConsoleAccountTable.Schema,

        // 2: an account may be bound to a client certificate (docs/design/console.md).
        ConsoleAccountTable.CertificateBinding,
    ];

    /// <summary>Rare writes, each a person's act: every commit reaches the disk.</summary>
    private static readonly SqliteOpenOptions ConnectionOptions = new()
    {
        Pooling = true,
        Synchronous = SqliteSynchronous.Full,
        BusyTimeout = TimeSpan.FromSeconds(5),

        // Password hashes.
        OwnerOnly = true,
    };

    private readonly StoreDatabase _store;

    private NodeAdminDatabase(string path)
    {
        Path = path;
        _store = StoreDatabase.Sqlite(path, ConnectionOptions);
    }

    public string Path { get; }

    /// <summary>Opens (creating if need be) and migrates the node's admin.db.</summary>
    /// <exception cref="StorageException"><see cref="StorageErrors.SchemaTooNew"/>: written by a newer release.</exception>
    public static NodeAdminDatabase Open(NodePaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var database = new NodeAdminDatabase(paths.AdminDatabase);
        using var connection = SqliteConnections.Open(database.Path, ConnectionOptions with { Wal = true });
        SqliteMigrations.Migrate(connection, Migrations, "node admin database");
        return database;
    }

    public SqliteConnection OpenConnection() => SqliteConnections.Open(Path, ConnectionOptions);

    /// <summary>The accounts and audit log over this database.</summary>
    public AuditedAccountStore Accounts(TimeProvider time) => new(_store, time);
}
