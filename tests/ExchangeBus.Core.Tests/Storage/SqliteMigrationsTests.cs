// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Tests.Storage;

public sealed class SqliteMigrationsTests
{
    private static readonly string[] Migrations =
    [
        "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO things (name) VALUES ('first');",
        "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0;",
    ];

    private TempDatabase _database = null!;

    [SetUp]
    public void SetUp() => _database = new TempDatabase();

    [TearDown]
    public void TearDown() => _database.Dispose();

    [Test]
    public void Migrate_NewFile_AppliesEach_ThenNoneAgain()
    {
        using var connection = Open();

        Assert.That(SqliteMigrations.Migrate(connection, Migrations, "test database"), Is.Zero);
        Assert.That(SqliteMigrations.Migrate(connection, Migrations, "test database"), Is.EqualTo(2));

        Assert.That(Sql.Scalar(connection, null, "SELECT group_concat(version) FROM schema_version;"), Is.EqualTo("1,2"));
        Assert.That(Sql.ScalarInt64(connection, null, "SELECT COUNT(*) FROM things;"), Is.EqualTo(1), "migration 1 ran once");
        Assert.That(SqliteMigrations.Version(connection), Is.EqualTo(2));
    }

    [Test]
    public void Migrate_OlderFile_AppliesOnlyTheNewOnes()
    {
        using var connection = Open();
        SqliteMigrations.Migrate(connection, Migrations[..1], "test database");

        Assert.That(SqliteMigrations.Migrate(connection, Migrations, "test database"), Is.EqualTo(1));

        Assert.That(Sql.ScalarInt64(connection, null, "SELECT size FROM things;"), Is.Zero);
        Assert.That(SqliteMigrations.Version(connection), Is.EqualTo(2));
    }

    [Test]
    public void Migrate_NewerFile_RefusedWithItsCode_AndLeftAlone()
    {
        using var connection = Open();
        SqliteMigrations.Migrate(connection, Migrations, "test database");
        Sql.Execute(connection, null, "INSERT INTO schema_version (version) VALUES (3);");

        var refusal = Assert.Throws<StorageException>(() => SqliteMigrations.Migrate(connection, Migrations[..1], "test database"));

        Assert.That(refusal!.Code, Is.EqualTo(StorageErrors.SchemaTooNew));
        Assert.That(refusal.Message, Does.Contain("test database schema version 3"));
        Assert.That(SqliteMigrations.Version(connection), Is.EqualTo(3));
    }

    [Test]
    public void Migrate_FailingMigration_LeavesNeitherItsChangesNorItsVersion()
    {
        using var connection = Open();
        string[] failing = [Migrations[0], "CREATE TABLE more (id INTEGER); INSERT INTO nowhere VALUES (1);"];

        Assert.Throws<SqliteException>(() => SqliteMigrations.Migrate(connection, failing, "test database"));

        Assert.That(SqliteMigrations.Version(connection), Is.EqualTo(1));
        Assert.That(Sql.Scalar(connection, null, "SELECT name FROM sqlite_master WHERE name = 'more';"), Is.Null);
    }

    [Test]
    public void Open_AppliesTheNamedPragmas()
    {
        using var connection = SqliteConnections.Open(_database.Path, new SqliteOpenOptions
        {
            Wal = true,
            ForeignKeys = true,
            Synchronous = SqliteSynchronous.Normal,
            BusyTimeout = TimeSpan.FromMilliseconds(1234),
            Pragmas = ["cache_size=-2048"],
        });

        Assert.That(Sql.Scalar(connection, null, "PRAGMA journal_mode;"), Is.EqualTo("wal"));
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA foreign_keys;"), Is.EqualTo(1));
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA synchronous;"), Is.EqualTo(1), "NORMAL");
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA busy_timeout;"), Is.EqualTo(1234));
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA cache_size;"), Is.EqualTo(-2048));
    }

    [Test]
    public void Open_QueryOnly_RefusesWrites()
    {
        using (var writer = Open())
        {
            SqliteMigrations.Migrate(writer, Migrations, "test database");
        }

        using var reader = SqliteConnections.Open(_database.Path, new SqliteOpenOptions { QueryOnly = true });

        Assert.That(Sql.ScalarInt64(reader, null, "SELECT COUNT(*) FROM things;"), Is.EqualTo(1));
        Assert.Throws<SqliteException>(() => Sql.Execute(reader, null, "DELETE FROM things;"));
    }

    [Test]
    public void Open_OwnerOnly_CreatesTheFileForItsOwnerAlone()
    {
        using var connection = SqliteConnections.Open(_database.Path, new SqliteOpenOptions { OwnerOnly = true, Wal = true });

        if (!OperatingSystem.IsWindows())
        {
            Assert.That(File.GetUnixFileMode(_database.Path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }
    }

    private SqliteConnection Open() => SqliteConnections.Open(_database.Path, new SqliteOpenOptions { Wal = true });
}
