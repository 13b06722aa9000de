// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Tests.Storage;

/// <summary>The engine seam on SQLite, and what it checks of a PostgreSQL connection string before any connection.</summary>
public sealed class StoreDatabaseTests
{
    // A second writer gives up after a second, not Microsoft.Data.Sqlite's default of 30.
    private static readonly SqliteOpenOptions Options = new()
    {
        Pooling = false, ForeignKeys = true, BusyTimeout = TimeSpan.FromMilliseconds(1), BusyTimeoutBoundsCommands = true,
    };

    private TempDatabase _file = null!;

    [SetUp]
    public void SetUp() => _file = new TempDatabase();

    [TearDown]
    public void TearDown() => _file.Dispose();

    [Test]
    public void Sql_BindsAtNames_AndTheDollarNamesOfTheSqliteOnlyStores()
    {
        using var database = StoreDatabase.Sqlite(_file.Path, Options);
        database.Migrate(["CREATE TABLE t (a TEXT, b INTEGER, c BLOB);"], ["unused"], "test database");
        using var connection = database.Open();

        Assert.That(Sql.Execute(connection, null, "INSERT INTO t (a, b, c) VALUES (@a, @b, @c)", "at", 1L, new byte[] { 1 }), Is.EqualTo(1));
        Assert.That(Sql.Execute(connection, null, "INSERT INTO t (a, b, c) VALUES ($a, $b, $c)", "dollar", 2L, null), Is.EqualTo(1));

        Assert.That(Sql.Scalar(connection, null, "SELECT a FROM t WHERE b = @a", 2L), Is.EqualTo("dollar"));
        Assert.That(Sql.Scalar(connection, null, "SELECT c FROM t WHERE a = $a", "dollar"), Is.Null, "null binds as SQL NULL");
        using var command = Sql.Command(connection, null, "SELECT a FROM t WHERE CAST(@a AS TEXT) IS NULL OR a = @a ORDER BY b", [null]);
        Assert.That(Sql.ReadAll(command, r => r.GetString(0)), Is.EqualTo(new[] { "at", "dollar" }));
    }

    [Test]
    public void Sqlite_MigratesInWal_AndAWriteHoldsTheFilesWriteLock()
    {
        using var database = StoreDatabase.Sqlite(_file.Path, Options);
        Assert.That(database.Migrate(["CREATE TABLE t (x INTEGER);"], ["unused"], "test database"), Is.Zero);
        Assert.That((database.Engine, database.Location, database.Like), Is.EqualTo((StorageEngine.Sqlite, _file.Path, "LIKE")));

        using var writer = database.Open();
        using var write = database.BeginWrite(writer);
        using var other = (SqliteConnection)database.Open();
        Assert.That(Sql.Scalar(other, null, "PRAGMA journal_mode;"), Is.EqualTo("wal"));

        // BEGIN IMMEDIATE: the write lock is taken at BEGIN, before any statement, so a second writer is refused at once.
        var busy = Assert.Throws<SqliteException>(() => other.BeginTransaction().Dispose());
        Assert.That(busy!.SqliteErrorCode, Is.EqualTo(5), "SQLITE_BUSY");
    }

    [TestCase(null, "it names no Host")]
    [TestCase("Host=db;Database", "it does not parse as Key=Value;… (ArgumentException)")]
    [TestCase("Host=db;Port=many;Database=x", "it does not parse as Key=Value;… (ArgumentException)")]
    [TestCase("Database=x;Password=secret", "it names no Host")]
    [TestCase("Host=db;Username=u", "it names no Database")]
    [TestCase("Host=db;Database=x;Username=u;Password=secret", null)]
    public void CheckPostgres_SaysWhatIsWrong_NeverEchoingTheString(string? connectionString, string? problem)
    {
        Assert.That(StoreDatabase.CheckPostgres(connectionString), Is.EqualTo(problem));
        if (problem is not null)
        {
            var refusal = Assert.Throws<StorageException>(() => StoreDatabase.Postgres(connectionString!, "test"));
            Assert.That((refusal!.Code, refusal.Message), Is.EqualTo((StorageErrors.InvalidConnectionString, "The PostgreSQL connection string is refused: " + problem)));
        }
    }
}
