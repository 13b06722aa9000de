// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Registry.Tests;

/// <summary>registry.db on the shared SQLite plumbing: the same schema_version table as before, the same settings.</summary>
public sealed class RegistryDatabaseTests
{
    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-registry-db-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void Open_NewFile_EveryMigrationOnce_WalFullSyncForeignKeys()
    {
        RegistryDatabase.Open(_folder);
        var database = RegistryDatabase.Open(_folder);

        using var connection = database.OpenConnection();
        Assert.That(Sql.Scalar(connection, null, "SELECT group_concat(version) FROM schema_version;"), Is.EqualTo("1,2,3,4"));
        Assert.That(RegistryDatabase.CurrentSchemaVersion, Is.EqualTo(4));
        Assert.That(Sql.Scalar(connection, null, "PRAGMA journal_mode;"), Is.EqualTo("wal"));
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA synchronous;"), Is.EqualTo(2), "FULL");
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA foreign_keys;"), Is.EqualTo(1));
        Assert.That(Sql.ScalarInt64(connection, null, "PRAGMA busy_timeout;"), Is.EqualTo(5000));
    }

    [Test]
    public void Open_NewerFile_RefusedWithItsCode()
    {
        using (var connection = RegistryDatabase.Open(_folder).OpenConnection())
        {
            Sql.Execute(connection, null, "INSERT INTO schema_version (version) VALUES (99);");
        }

        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder));
        Assert.That(refusal!.Code, Is.EqualTo(StorageErrors.SchemaTooNew));
        Assert.That(refusal.Message, Does.Contain("registry database schema version 99"));
    }
}
