// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ExchangeBus.Core.Storage;

/// <summary>
/// A store's database on SQLite or PostgreSQL: how connections are opened, how a write begins,
/// and the schema brought up to date, so that the store's own code (its SQL through
/// <see cref="Sql"/>) is the same on both. Which engine is one setting: a PostgreSQL connection
/// string given, or not (then the SQLite file, as before).
/// </summary>
public sealed class StoreDatabase : IDisposable
{
    private readonly string? _path;
    private readonly SqliteOpenOptions? _sqlite;
    private readonly NpgsqlDataSource? _postgres;
    private readonly long _writerLock;

    private StoreDatabase(string location, string? path, SqliteOpenOptions? sqlite, NpgsqlDataSource? postgres, long writerLock)
    {
        Location = location;
        _path = path;
        _sqlite = sqlite;
        _postgres = postgres;
        _writerLock = writerLock;
    }

    public StorageEngine Engine => _postgres is null ? StorageEngine.Sqlite : StorageEngine.Postgres;

    /// <summary>Where the data is, for messages: the file's path, or the PostgreSQL database and server (never a password).</summary>
    public string Location { get; }

    /// <summary>
    /// The case-insensitive <c>LIKE</c>: SQLite's LIKE folds ASCII letters; PostgreSQL's is
    /// case-sensitive, and its ILIKE on the <c>"C"</c> collation the PostgreSQL schemas use folds
    /// the same ASCII letters.
    /// </summary>
    public string Like => Engine == StorageEngine.Postgres ? "ILIKE" : "LIKE";

    public static StoreDatabase Sqlite(string path, SqliteOpenOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        return new StoreDatabase(path, path, options, null, 0);
    }

    /// <summary>
    /// A pooled data source on the database <paramref name="connectionString"/> names.
    /// <paramref name="store"/> names the store ("registry"): its writers take one lock of that
    /// name, whichever process they run in.
    /// </summary>
    /// <exception cref="StorageException"><see cref="StorageErrors.InvalidConnectionString"/>.</exception>
    public static StoreDatabase Postgres(string connectionString, string store)
    {
        ArgumentException.ThrowIfNullOrEmpty(store);
        var builder = ParsePostgres(connectionString, out var problem)
            ?? throw new StorageException(StorageErrors.InvalidConnectionString, "The PostgreSQL connection string is refused: " + problem);
        builder.ApplicationName ??= "xbus " + store;
        var location = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
        var lockKey = BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("xbus/" + store)));
        return new StoreDatabase(location, null, null, NpgsqlDataSource.Create(builder), lockKey);
    }

    /// <summary>
    /// Null when <paramref name="connectionString"/> is one the bus can use (it parses, and names
    /// a host and a database), otherwise what is wrong with it. Never echoes the string: it may
    /// hold a password.
    /// </summary>
    public static string? CheckPostgres(string? connectionString)
    {
        ParsePostgres(connectionString, out var problem);
        return problem;
    }

    private static NpgsqlConnectionStringBuilder? ParsePostgres(string? connectionString, out string? problem)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            problem = "it does not parse as Key=Value;… (" + ex.GetType().Name + ")";
            return null;
        }

        problem = string.IsNullOrWhiteSpace(builder.Host) ? "it names no Host"
            : string.IsNullOrWhiteSpace(builder.Database) ? "it names no Database"
            : null;
        return problem is null ? builder : null;
    }

    /// <summary>An open connection; dispose it to give it back (PostgreSQL's are pooled; SQLite's as the store's options say).</summary>
    public DbConnection Open() =>
        _postgres is not null ? _postgres.OpenConnection() : SqliteConnections.Open(_path!, _sqlite!);

    /// <summary>
    /// Begins a transaction that changes the store: one writer at a time. SQLite: <c>BEGIN
    /// IMMEDIATE</c> (Microsoft.Data.Sqlite's default), the file's one write lock taken at once.
    /// PostgreSQL: read committed, then the store's advisory lock until commit or rollback. One
    /// lock rather than serializable isolation: the stores read-then-append (the audit chain,
    /// configuration versions) as they did on SQLite's single writer, and a lock makes a second
    /// instance wait instead of failing with a serialization error it would have to retry. Every
    /// statement after the lock sees what the writer before committed.
    /// </summary>
    public DbTransaction BeginWrite(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection is SqliteConnection sqlite)
        {
            return sqlite.BeginTransaction();
        }

        var transaction = connection.BeginTransaction(IsolationLevel.ReadCommitted);
        try
        {
            Sql.Execute(connection, transaction, "SELECT pg_advisory_xact_lock(@a)", _writerLock);
            return transaction;
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Brings the schema up to date and returns the version it had (0 for a new database). Each
    /// engine has its own list, oldest first, never edited once released, only added to; both
    /// keep the version in a <c>schema_version</c> table. SQLite: <see cref="SqliteMigrations"/>
    /// on a connection that puts the file in WAL mode. PostgreSQL: all pending migrations in one
    /// transaction under the writer lock, so instances starting together migrate once.
    /// </summary>
    /// <exception cref="StorageException"><see cref="StorageErrors.SchemaTooNew"/>; <see cref="StorageErrors.Unavailable"/>: the PostgreSQL server could not be reached.</exception>
    public int Migrate(IReadOnlyList<string> sqlite, IReadOnlyList<string> postgres, string description)
    {
        ArgumentNullException.ThrowIfNull(sqlite);
        ArgumentNullException.ThrowIfNull(postgres);
        if (_postgres is null)
        {
            // WAL is a property of the file: set once here, kept by every later connection.
            using var file = SqliteConnections.Open(_path!, _sqlite! with { Wal = true });
            return SqliteMigrations.Migrate(file, sqlite, description);
        }

        DbConnection connection;
        try
        {
            connection = _postgres.OpenConnection();
        }
        catch (NpgsqlException ex) when (ex is not PostgresException)
        {
            throw new StorageException(StorageErrors.Unavailable, $"{Location} could not be reached: {ex.Message}");
        }

        using (connection)
        {
            using var transaction = BeginWrite(connection);
            Sql.Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            var version = (int)Sql.ScalarInt64(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
            if (version > postgres.Count)
            {
                throw new StorageException(
                    StorageErrors.SchemaTooNew,
                    $"{Location} has {description} schema version {version}, newer than this program knows ({postgres.Count}); refusing to touch it.");
            }

            for (var next = version; next < postgres.Count; next++)
            {
                Sql.Execute(connection, transaction, postgres[next]);
                Sql.Execute(connection, transaction, "INSERT INTO schema_version (version) VALUES (@a)", next + 1);
            }

            transaction.Commit();
            return version;
        }
    }

    public void Dispose() => _postgres?.Dispose();
}
