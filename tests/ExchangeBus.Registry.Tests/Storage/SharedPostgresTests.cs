// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// Two registry stores on one PostgreSQL database, each with its own data source, as two
/// registry instances have: each sees what the other wrote, and their writes take turns.
/// </summary>
public sealed class SharedPostgresTests() : OnEachEngine(StorageEngine.Postgres)
{
    private const string Instance = RegistryFixture.Instance;

    private TempRegistryKeys _registry = null!;
    private string _folder = null!;
    private RegistryKeys _keys = null!;

    [SetUp]
    public void SetUp()
    {
        _registry = new TempRegistryKeys("xbus-registry-pg-");
        (_folder, _keys) = (_registry.Folder, _registry.Keys);
    }

    [TearDown]
    public void TearDown() => _registry.Dispose();

    [Test]
    public void TwoStores_OneDatabase_EachSeesTheOthersWrites()
    {
        var database = Postgres.CreateDatabase();
        using var first = RegistryDatabase.Open(_folder, database);
        using var second = RegistryDatabase.Open(_folder, database);
        Assert.That((first.Engine, second.Engine), Is.EqualTo((StorageEngine.Postgres, StorageEngine.Postgres)));
        RegistryStore.Initialise(first, _keys, TimeProvider.System, Instance, new ConfigurationParameters());
        var a = new RegistryStore(first, _keys, TimeProvider.System);
        var b = new RegistryStore(second, _keys, TimeProvider.System);
        Assert.That(b.Instance, Is.EqualTo(Instance), "the second reads the settings the first initialised");
        a.SetPublicAddresses("https://127.0.0.1:4400", "http://127.0.0.1:4401");

        a.AddMemberClass("test", "GOV", "Government");
        var added = b.AddMember("test", "VN/GOV/A", "A");
        Assert.That(a.ListMembers().Select(m => m.Member), Is.EqualTo(new[] { "VN/GOV/A" }));
        Assert.That(a.CurrentConfiguration().Version, Is.EqualTo(added.ConfigurationVersion), "the version the second published is the first's current one");
        Assert.That(a.CurrentConfiguration().Configuration!.Signature, Is.EqualTo(b.CurrentConfiguration().Configuration!.Signature));
    }

    [Test]
    public async Task TwoStores_WritingAtOnce_TakeTurns_OneAuditChain_NoVersionForked()
    {
        var database = Postgres.CreateDatabase();
        using var first = RegistryDatabase.Open(_folder, database);
        using var second = RegistryDatabase.Open(_folder, database);
        RegistryStore.Initialise(first, _keys, TimeProvider.System, Instance, new ConfigurationParameters());
        var stores = new[] { new RegistryStore(first, _keys, TimeProvider.System), new RegistryStore(second, _keys, TimeProvider.System) };
        stores[0].SetPublicAddresses("https://127.0.0.1:4400", "http://127.0.0.1:4401");
        stores[0].AddMemberClass("test", "GOV", "Government");

        // Each store's own lock serialises only its own writers: what keeps these apart is the database's.
        const int Each = 10;
        var outcomes = await Task.WhenAll(stores.Select((store, s) => Task.Run(() =>
            Enumerable.Range(0, Each).Select(i => store.AddMember("test", $"VN/GOV/S{s}M{i}", $"member {i} of store {s}")).ToList())));

        var versions = outcomes.SelectMany(o => o.Select(c => c.ConfigurationVersion)).Order().ToList();
        Assert.That(versions, Is.EqualTo(Enumerable.Range((int)versions[0], 2 * Each).Select(v => (ulong)v)), "each change published the next version: none twice, none skipped");
        Assert.That(stores[1].ListMembers(), Has.Count.EqualTo(2 * Each));
        var audit = stores[1].VerifyAuditLog();
        Assert.That((audit.Valid, audit.Problem), Is.EqualTo((true, string.Empty)));
        Assert.That(outcomes.SelectMany(o => o.Select(c => c.AuditSequence)).Distinct().Count(), Is.EqualTo(2 * Each));
    }

    [Test]
    public void Open_MalformedConnectionString_RefusedWithItsCode_WithoutEchoingIt()
    {
        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, "Host=127.0.0.1;Password=secret;Database"));
        Assert.That(refusal!.Code, Is.EqualTo(StorageErrors.InvalidConnectionString));
        Assert.That(refusal.Message, Does.Not.Contain("secret"));

        var noDatabase = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, "Host=127.0.0.1;Username=x"));
        Assert.That((noDatabase!.Code, noDatabase.Message), Is.EqualTo((StorageErrors.InvalidConnectionString, "The PostgreSQL connection string is refused: it names no Database")));
    }

    [Test]
    public void Initialise_ByASecondInstanceAfterTheFirst_AlreadyInitialised()
    {
        var database = Postgres.CreateDatabase();
        using var first = RegistryDatabase.Open(_folder, database);
        using var second = RegistryDatabase.Open(_folder, database);
        RegistryStore.Initialise(first, _keys, TimeProvider.System, Instance, new ConfigurationParameters());

        // Both passed init's check before either wrote: the second is refused under the writer lock.
        var refusal = Assert.Throws<ExchangeBus.Core.Errors.RegistryException>(
            () => RegistryStore.Initialise(second, _keys, TimeProvider.System, Instance, new ConfigurationParameters()))!;

        Assert.That(refusal.Code, Is.EqualTo(ExchangeBus.Core.Errors.RegistryErrors.AlreadyInitialised));
        Assert.That(refusal.Message, Does.StartWith("PostgreSQL database "));
    }

    [Test]
    public void Open_NobodyListening_UnavailableWithItsCode()
    {
        var database = new NpgsqlConnectionStringBuilder(Postgres.ConnectionString("postgres")) { Host = "127.0.0.1", Port = 1, Timeout = 2 }.ConnectionString;
        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, database));
        Assert.That(refusal!.Code, Is.EqualTo(StorageErrors.Unavailable));
        Assert.That(refusal.Message, Does.StartWith("PostgreSQL database postgres on 127.0.0.1:1 could not be reached"));
    }

    [Test]
    public void Open_Twice_MigratesOnce_AndANewerSchemaIsRefused()
    {
        var database = Postgres.CreateDatabase();
        using (var first = RegistryDatabase.Open(_folder, database))
        using (var connection = first.OpenConnection())
        {
            Assert.That(Sql.ScalarInt64(connection, null, "SELECT COUNT(*) FROM xbus_registry_schema_version"), Is.EqualTo(RegistryDatabase.CurrentPostgresSchemaVersion));
        }

        using (var again = RegistryDatabase.Open(_folder, database))
        using (var connection = again.OpenConnection())
        {
            Assert.That(Sql.ScalarInt64(connection, null, "SELECT COUNT(*) FROM xbus_registry_schema_version"), Is.EqualTo(RegistryDatabase.CurrentPostgresSchemaVersion));
            Sql.Execute(connection, null, "INSERT INTO xbus_registry_schema_version (version) VALUES (99)");
        }

        var refusal = Assert.Throws<StorageException>(() => RegistryDatabase.Open(_folder, database));
        Assert.That(refusal!.Code, Is.EqualTo(StorageErrors.SchemaTooNew));
        Assert.That(refusal.Message, Does.Contain("registry database schema version 99"));
        Assert.That(File.Exists(Path.Combine(_folder, RegistryDatabase.FileName)), Is.False, "no registry.db beside a PostgreSQL registry");
    }
}
