// SPDX-License-Identifier: Apache-2.0
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Storage;

/// <summary>
/// Versioned schemas: migration <c>i</c> (from 1) is <c>migrations[i - 1]</c>, and each one
/// applied adds its number to the <c>schema_version</c> table, in the migration's own
/// transaction. The table is the one the registry and the message log have kept since their
/// first release, so files they wrote open unchanged.
/// </summary>
public static class SqliteMigrations
{
    /// <summary>
    /// Brings the schema up to date and returns the version the file had (0 for a new file).
    /// </summary>
    /// <param name="connection">An open, writable connection, in no transaction.</param>
    /// <param name="migrations">The schema's migrations, oldest first; never edited once released, only added to.</param>
    /// <param name="description">What the file is, for the refusal's message ("message log", "registry database").</param>
    /// <exception cref="StorageException"><see cref="StorageErrors.SchemaTooNew"/>: the file is newer than <paramref name="migrations"/>; nothing was changed.</exception>
    public static int Migrate(SqliteConnection connection, IReadOnlyList<string> migrations, string description)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(migrations);
        Sql.Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
        var version = Version(connection);
        if (version > migrations.Count)
        {
            throw new StorageException(
                StorageErrors.SchemaTooNew,
                $"{connection.DataSource} has {description} schema version {version}, newer than this program knows ({migrations.Count}); refusing to touch it.");
        }

        for (var next = version; next < migrations.Count; next++)
        {
            // A migration and its version row commit together: a crash leaves both or neither.
            using var transaction = connection.BeginTransaction();
            Sql.Execute(connection, transaction, migrations[next]);
            Sql.Execute(connection, transaction, "INSERT INTO schema_version (version) VALUES ($a);", next + 1);
            transaction.Commit();
        }

        return version;
    }

    /// <summary>The schema version recorded in the file.</summary>
    /// <exception cref="SqliteException">The file has no <c>schema_version</c> table: not a bus database.</exception>
    public static int Version(SqliteConnection connection) =>
        (int)Sql.ScalarInt64(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version;");
}
