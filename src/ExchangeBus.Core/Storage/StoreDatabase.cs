// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Data;
using System.Data.Common;
using System.Net;
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
    private readonly string? _versionTable;

    private StoreDatabase(string location, string? path, SqliteOpenOptions? sqlite, NpgsqlDataSource? postgres, long writerLock, string? versionTable)
    {
        Location = location;
        _path = path;
        _sqlite = sqlite;
        _postgres = postgres;
        _writerLock = writerLock;
        _versionTable = versionTable;
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
        return new StoreDatabase(path, path, options, null, 0, null);
    }

    /// <summary>
    /// A pooled data source on the database <paramref name="connectionString"/> names.
    /// <paramref name="store"/> names the store ("registry"): its writers take one lock of that
    /// name, whichever process they run in.
    /// </summary>
    /// <exception cref="StorageException">
    /// <see cref="StorageErrors.InvalidConnectionString"/>; <see cref="StorageErrors.InsecureConnection"/>: a server on
    /// another machine without SSL Mode VerifyCA or VerifyFull.
    /// </exception>
    public static StoreDatabase Postgres(string connectionString, string store)
    {
        ArgumentException.ThrowIfNullOrEmpty(store);
        if (!store.All(char.IsAsciiLetterLower))
        {
            throw new ArgumentException("A store's name is lower-case ASCII letters: it names its tables.", nameof(store));
        }

        var builder = ParsePostgres(connectionString, out var problem)
            ?? throw new StorageException(StorageErrors.InvalidConnectionString, "The PostgreSQL connection string is refused: " + problem);
        if (builder.SslMode is not (SslMode.VerifyCA or SslMode.VerifyFull) && builder.Host!.Split(',').FirstOrDefault(h => !IsLocal(h)) is { } remote)
        {
            throw new StorageException(StorageErrors.InsecureConnection,
                $"The PostgreSQL server {remote.Trim()} is not on this machine, and SSL Mode is {builder.SslMode}: give SSL Mode=VerifyFull (and Root Certificate=…), so that the password and the data go only to that server.");
        }

        builder.ApplicationName ??= "xbus " + store;

        // A writer that stalls holding the store's lock (a process paused, a network cut without
        // a reset) would otherwise hold up every other writer for good: waiting for the lock
        // ends after LockTimeout (Storage.Unavailable, worth a retry), the server ends a
        // transaction left idle, and keepalives find a dead peer. Settings the operator gave in
        // Options come after these, so they win.
        builder.Options = $"-c lock_timeout={LockTimeout.TotalMilliseconds:0} -c idle_in_transaction_session_timeout={IdleInTransactionTimeout.TotalMilliseconds:0} {builder.Options}".TrimEnd();
        if (builder.KeepAlive == 0)
        {
            builder.KeepAlive = 30;
        }

        var location = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
        var lockKey = BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("xbus/" + store)));
        return new StoreDatabase(location, null, null, NpgsqlDataSource.Create(builder), lockKey, $"xbus_{store}_schema_version");
    }

    /// <summary>A unix socket folder, localhost or a loopback address: a host whose traffic never leaves the machine.</summary>
    private static bool IsLocal(string host)
    {
        host = host.Trim();
        var colon = host.LastIndexOf(':');
        if (colon > 0 && !host.EndsWith(']') && host.IndexOf(':') == colon)
        {
            host = host[..colon]; // host:port
        }

        host = host.Trim('[', ']');
        return host.StartsWith('/')
            || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>How long a PostgreSQL writer waits for the store's lock before it gives up (Storage.Unavailable).</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long PostgreSQL keeps a transaction that sends nothing before it ends it, and its locks with it.</summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(60);

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
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            transaction.Dispose();
            throw new StorageException(StorageErrors.Unavailable, $"{Location}: another writer held the store's lock past lock_timeout; try again.");
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Brings the schema up to date and returns the version it had (0 for a new database). Each
    /// engine has its own list, oldest first, never edited once released, only added to. SQLite:
    /// <see cref="SqliteMigrations"/> on a connection that puts the file in WAL mode, the version
    /// in the file's <c>schema_version</c> table as ever. PostgreSQL: all pending migrations in
    /// one transaction under the writer lock, so instances starting together migrate once; the
    /// version in a table named for the store (<c>xbus_registry_schema_version</c>), so that a
    /// database is never taken for another store's, and an empty database is the only one adopted.
    /// </summary>
    /// <exception cref="StorageException">
    /// <see cref="StorageErrors.SchemaTooNew"/>; PostgreSQL only: <see cref="StorageErrors.Unavailable"/> (not reached,
    /// no such database, the lock not had), <see cref="StorageErrors.AccessDenied"/>, <see cref="StorageErrors.NotThisStore"/>.
    /// </exception>
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

        try
        {
            return MigratePostgres(postgres, description);
        }
        catch (NpgsqlException ex) when (Refusal(ex) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>
    /// What the server said when the store could not be opened, as a coded refusal: its SQLSTATE
    /// and message text (which never hold the password), not a stack trace. Null for a fault of
    /// the store's own SQL, which stays an exception.
    /// </summary>
    private StorageException? Refusal(NpgsqlException exception) => exception switch
    {
        PostgresException { SqlState: var state } server when state.StartsWith("28", StringComparison.Ordinal) || state == PostgresErrorCodes.InsufficientPrivilege =>
            new StorageException(StorageErrors.AccessDenied, $"{Location} refused: {state} {server.MessageText}"),
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } server =>
            new StorageException(StorageErrors.Unavailable, $"{Location} refused: {server.SqlState} {server.MessageText}"),
        PostgresException => null,
        _ => new StorageException(StorageErrors.Unavailable, $"{Location} could not be reached: {exception.Message}"),
    };

    private int MigratePostgres(IReadOnlyList<string> postgres, string description)
    {
        using var connection = _postgres!.OpenConnection();
        using var transaction = BeginWrite(connection);

        // Nothing is created unless a migration is pending: CREATE … IF NOT EXISTS still needs
        // CREATE on the schema, which a role that only uses tables another owns does not have.
        var version = 0;
        if (Sql.Scalar(connection, transaction, "SELECT to_regclass(@a)::text", _versionTable) is string)
        {
            version = (int)Sql.ScalarInt64(connection, transaction, $"SELECT COALESCE(MAX(version), 0) FROM {_versionTable}");
        }
        else if (Sql.Scalar(connection, transaction,
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') LIMIT 1") is not null)
        {
            // Tables of another program, or of another store: reading them as ours, or adding
            // ours among them, would mix two stores' data.
            throw new StorageException(
                StorageErrors.NotThisStore,
                $"{Location} holds tables but no {_versionTable}: it is not a {description}; refusing to touch it. Give the {description} an empty database of its own.");
        }

        if (version > postgres.Count)
        {
            throw new StorageException(
                StorageErrors.SchemaTooNew,
                $"{Location} has {description} schema version {version}, newer than this program knows ({postgres.Count}); refusing to touch it.");
        }

        if (version < postgres.Count)
        {
            Sql.Execute(connection, transaction, $"CREATE TABLE IF NOT EXISTS {_versionTable} (version INTEGER NOT NULL)");
            for (var next = version; next < postgres.Count; next++)
            {
                Sql.Execute(connection, transaction, postgres[next]);
                Sql.Execute(connection, transaction, $"INSERT INTO {_versionTable} (version) VALUES (@a)", next + 1);
            }
        }

        transaction.Commit();
        return version;
    }

    public void Dispose() => _postgres?.Dispose();
}
