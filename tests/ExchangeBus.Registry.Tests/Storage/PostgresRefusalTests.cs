// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// What the PostgreSQL server says when the registry's database cannot be used, as stable codes
/// with the server's SQLSTATE and words, never a stack trace or the connection string; and the
/// databases the registry will not adopt.
/// </summary>
public sealed class PostgresRefusalTests() : OnEachEngine(StorageEngine.Postgres)
{
    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-registry-pg-refusal-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void Open_DatabaseThatDoesNotExist_Unavailable_WithTheServersWords()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(Postgres.ConnectionString("no_such_database")) { Password = "not-to-be-echoed" }.ConnectionString;

        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, connectionString).Dispose())!;

        Assert.That(refusal.Code, Is.EqualTo(StorageErrors.Unavailable));
        Assert.That(refusal.Message, Does.StartWith("PostgreSQL database no_such_database on ").And.Contain("3D000").And.Contain("does not exist"));
        Assert.That(refusal.Message, Does.Not.Contain("not-to-be-echoed"));
    }

    [Test]
    public void Open_RoleThatDoesNotExist_AccessDenied()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(Postgres.CreateDatabase()) { Username = "no_such_role" }.ConnectionString;

        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, connectionString).Dispose())!;

        Assert.That(refusal.Code, Is.EqualTo(StorageErrors.AccessDenied));
        Assert.That(refusal.Message, Does.Contain(" 28"));
    }

    [Test]
    public void Open_RoleWithoutPrivilegesOnTheTables_AccessDenied()
    {
        var database = Postgres.CreateDatabase();
        RegistryDatabase.Open(_folder, database).Dispose();
        Superuser(database, "CREATE ROLE stranger LOGIN");

        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, As(database, "stranger")).Dispose())!;

        Assert.That(refusal.Code, Is.EqualTo(StorageErrors.AccessDenied));
        Assert.That(refusal.Message, Does.Contain("42501"));
    }

    [Test]
    public void Open_UpToDate_ByARoleThatMayUseTheTablesButNotCreate_RunsNoDdl()
    {
        var database = Postgres.CreateDatabase();
        RegistryDatabase.Open(_folder, database).Dispose();
        Superuser(database,
            "CREATE ROLE user_only LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO user_only; "
            + "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO user_only");

        var ddl = Assert.Throws<PostgresException>(() => Superuser(As(database, "user_only"), "CREATE TABLE IF NOT EXISTS xbus_registry_schema_version (version INTEGER NOT NULL)"))!;
        Assert.That(ddl.SqlState, Is.EqualTo(PostgresErrorCodes.InsufficientPrivilege), "the premise: IF NOT EXISTS on a table that exists still needs CREATE on the schema");

        using var opened = RegistryDatabase.Open(_folder, As(database, "user_only"));

        Assert.That(opened.Engine, Is.EqualTo(StorageEngine.Postgres));
    }

    [Test]
    public void Open_DatabaseHoldingAnotherProgramsTables_NotThisStore_Untouched()
    {
        var database = Postgres.CreateDatabase();
        Superuser(database, "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)");

        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, database).Dispose())!;

        Assert.That(refusal.Code, Is.EqualTo(StorageErrors.NotThisStore));
        Assert.That(Superuser(database, "SELECT to_regclass('settings')::text"), Is.Null, "no registry table made among another program's");
    }

    [Test]
    public void BeginWrite_WhileAnotherWriterHoldsTheLock_UnavailableOnceLockTimeoutPasses()
    {
        var database = Postgres.CreateDatabase();
        // The operator's Options come after the bus's, so this short lock_timeout wins; the first
        // writer holds the lock until the test ends, so the second gives up whatever the timing.
        var impatient = new NpgsqlConnectionStringBuilder(database) { Options = "-c lock_timeout=200" }.ConnectionString;
        using var holder = StoreDatabase.Postgres(database, "registry");
        using var waiter = StoreDatabase.Postgres(impatient, "registry");
        using var holding = holder.Open();
        using var held = holder.BeginWrite(holding);
        using var waiting = waiter.Open();

        var refusal = Assert.Throws<StorageException>(() => waiter.BeginWrite(waiting).Dispose())!;

        Assert.That(refusal.Code, Is.EqualTo(StorageErrors.Unavailable));
        held.Rollback();
        using var after = waiter.BeginWrite(waiting);
        Assert.That(after, Is.Not.Null, "the lock free again, the same connection writes");
    }

    [TestCase("Host=db.internal;Database=x")]
    [TestCase("Host=db.internal;Database=x;SSL Mode=Require")]
    [TestCase("Host=127.0.0.1,db.internal;Database=x;SSL Mode=Prefer")]
    [TestCase("Host=10.0.0.5;Database=x")]
    public void Postgres_AnotherMachineWithoutAVerifiedCertificate_Refused(string connectionString)
    {
        var refusal = Assert.Throws<StorageException>(() => StoreDatabase.Postgres(connectionString + ";Password=not-to-be-echoed", "registry").Dispose())!;

        Assert.That(refusal.Code, Is.EqualTo(StorageErrors.InsecureConnection));
        Assert.That(refusal.Message, Does.Contain("SSL Mode=VerifyFull").And.Not.Contain("not-to-be-echoed"));
    }

    [TestCase("Host=db.internal;Database=x;SSL Mode=VerifyFull;Root Certificate=/etc/xbus/postgres-ca.pem")]
    [TestCase("Host=db.internal;Database=x;SSL Mode=VerifyCA")]
    [TestCase("Host=localhost;Database=x")]
    [TestCase("Host=127.0.0.1;Database=x")]
    [TestCase("Host=::1;Database=x")]
    [TestCase("Host=/run/postgresql;Database=x")]
    public void Postgres_VerifiedTlsOrThisMachine_Accepted(string connectionString) =>
        Assert.DoesNotThrow(() => StoreDatabase.Postgres(connectionString, "registry").Dispose());

    [Test]
    public void RegistryServerOptions_ToString_RedactsTheConnectionString()
    {
        var options = new Hosting.RegistryServerOptions { DataDirectory = "registry-data", Postgres = "Host=127.0.0.1;Database=x;Password=not-to-be-echoed" };

        var text = options.ToString();

        Assert.That(text, Does.Not.Contain("not-to-be-echoed"));
        Assert.That(text, Does.Contain("Postgres = (redacted)").And.Contain("DataDirectory = registry-data").And.Contain("GrpcListen = 127.0.0.1:4400"));
    }

    private static string As(string database, string role) => new NpgsqlConnectionStringBuilder(database) { Username = role }.ConnectionString;

    private static object? Superuser(string database, string sql)
    {
        using var connection = new NpgsqlConnection(database + ";Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var result = command.ExecuteScalar();
        return result is DBNull ? null : result;
    }
}
