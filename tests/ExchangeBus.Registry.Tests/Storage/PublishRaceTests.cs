// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// Several registry stores on one database (as several registry instances have), all finding at
/// once that a version is due: exactly one version is published between them. On PostgreSQL the
/// race is forced: the test holds the registry's writer lock until every store is waiting for it,
/// past its first "is it due?" look, so a store that did not look again under the lock would
/// publish a second version.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class PublishRaceTests(StorageEngine engine) : OnEachEngine(engine)
{
    private const string Instance = RegistryFixture.Instance;
    private const int StoreCount = 3;

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TempRegistryKeys _registry = null!;
    private string _folder = null!;
    private RegistryKeys _keys = null!;

    [SetUp]
    public void SetUp()
    {
        _registry = new TempRegistryKeys("xbus-registry-race-");
        (_folder, _keys) = (_registry.Folder, _registry.Keys);
    }

    [TearDown]
    public void TearDown() => _registry.Dispose();

    [Test]
    public async Task RefreshConfigurationIfDue_ManyStoresAtOnce_OneVersionPublished()
    {
        using var shared = new SharedDatabase(this);
        var first = shared.Stores[0].SetPublicAddresses("https://127.0.0.1:4400", "http://127.0.0.1:4401")!.ConfigurationVersion;
        Assert.That(shared.Stores.Select(s => s.RefreshConfigurationIfDue()), Is.All.Null, "not due: nothing published");

        _clock.Advance(TimeSpan.FromSeconds((new ConfigurationParameters().ValiditySeconds / 2) + 1));
        var published = await shared.RaceAsync(store => store.RefreshConfigurationIfDue());

        Assert.That(published.Where(v => v is not null), Is.EqualTo(new ulong?[] { first + 1 }), "one store published the next version, the others nothing");
        Assert.That(shared.Versions(), Is.EqualTo(new[] { first, first + 1 }));
        Assert.That(shared.Stores.Select(s => s.RefreshConfigurationIfDue()), Is.All.Null, "the new version is not due again");
    }

    [Test]
    public async Task SetPublicAddresses_ManyStoresAtOnce_OneVersionOneAuditEntry()
    {
        using var shared = new SharedDatabase(this);
        var outcomes = await shared.RaceAsync(store => store.SetPublicAddresses("https://127.0.0.1:4400", "http://127.0.0.1:4401"));

        Assert.That(outcomes.Count(o => o is not null), Is.EqualTo(1), "one store recorded the addresses, the others found them recorded");
        Assert.That(shared.Versions(), Is.EqualTo(new ulong[] { 1 }));
        Assert.That(shared.Stores[0].VerifyAuditLog().Valid, Is.True);
    }

    [Test]
    public void SetPublicAddresses_AnotherInstance_SqliteReplaces_PostgresAddsInOrder()
    {
        using var shared = new SharedDatabase(this);
        shared.Stores[0].SetPublicAddresses("https://127.0.0.1:4400", "http://127.0.0.1:4401");
        shared.Stores[1].SetPublicAddresses("https://127.0.0.1:4410", "http://127.0.0.1:4411");
        var again = shared.Stores[2].SetPublicAddresses("https://127.0.0.1:4400", "http://127.0.0.1:4401");
        Assert.That(again is null, Is.EqualTo(Engine == StorageEngine.Postgres), "PostgreSQL: already listed; SQLite: it replaces the second's");

        var listed = shared.Stores[2].CurrentView()!;
        if (Engine == StorageEngine.Sqlite)
        {
            // One registry on one file: the last address recorded is the registry's, as before.
            Assert.That(shared.Stores[0].RegistryAddresses(), Is.EqualTo(new[] { new RegistryAddress("https://127.0.0.1:4400", "http://127.0.0.1:4401") }));
            Assert.That(shared.Versions(), Has.Count.EqualTo(3));
            Assert.That(listed.RegistryAddresses, Is.EqualTo(new[] { "https://127.0.0.1:4400" }));
        }
        else
        {
            // The first instance restarting where it was changes nothing; the second stays listed after it.
            Assert.That(shared.Stores[0].RegistryAddresses().Select(a => a.Grpc), Is.EqualTo(new[] { "https://127.0.0.1:4400", "https://127.0.0.1:4410" }));
            Assert.That(shared.Versions(), Has.Count.EqualTo(2));
            Assert.That(listed.RegistryAddresses, Is.EqualTo(new[] { "https://127.0.0.1:4400", "https://127.0.0.1:4410" }));
            Assert.That(listed.TimeStampingAuthorities.Single().Url.ToString(), Does.StartWith("http://127.0.0.1:4401/"), "OCSP and TSA stay at the first instance's HTTP address");
        }
    }

    /// <summary><see cref="StoreCount"/> stores, each on its own connection pool or file handle, on one registry database.</summary>
    private sealed class SharedDatabase : IDisposable
    {
        private readonly PublishRaceTests _test;
        private readonly string? _postgres;
        private readonly List<RegistryDatabase> _databases = [];

        public SharedDatabase(PublishRaceTests test)
        {
            _test = test;
            _postgres = test.NewDatabase();
            for (var i = 0; i < StoreCount; i++)
            {
                _databases.Add(RegistryDatabase.Open(test._folder, _postgres));
            }

            RegistryStore.Initialise(_databases[0], test._keys, test._clock, Instance, new ConfigurationParameters());
            Stores = _databases.Select(d => new RegistryStore(d, test._keys, test._clock)).ToList();
        }

        public List<RegistryStore> Stores { get; }

        /// <summary>
        /// Runs <paramref name="act"/> on every store at once. On PostgreSQL the writer lock is
        /// held until all of them wait for it, then let go; SQLite shows no waiter to wait for, so
        /// there they only start together.
        /// </summary>
        public async Task<T[]> RaceAsync<T>(Func<RegistryStore, T> act)
        {
            if (_postgres is null)
            {
                using var start = new Barrier(Stores.Count);
                return await Task.WhenAll(Stores.Select(store => Task.Run(() =>
                {
                    start.SignalAndWait();
                    return act(store);
                })));
            }

            using var holder = RegistryDatabase.Open(_test._folder, _postgres);
            using var connection = holder.OpenConnection();
            Task<T[]> racing;
            using (var transaction = holder.BeginWrite(connection))
            {
                racing = Task.WhenAll(Stores.Select(store => Task.Run(() => act(store))));
                var deadline = DateTime.UtcNow.AddMinutes(2);
                while (WaitingForWriterLock(connection) < Stores.Count)
                {
                    Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "every store should come to wait for the writer lock");
                    Assert.That(racing.IsCompleted, Is.False, "a store finished while another held the writer lock");
                    Thread.Sleep(20);
                }

                transaction.Rollback();
            }

            return await racing;
        }

        private static long WaitingForWriterLock(System.Data.Common.DbConnection connection) =>
            Sql.ScalarInt64(connection, null, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");

        public List<ulong> Versions()
        {
            using var connection = _databases[0].OpenConnection();
            using var command = Sql.Command(connection, null, "SELECT version FROM configurations ORDER BY version");
            return Sql.ReadAll(command, r => (ulong)r.GetInt64(0));
        }

        public void Dispose()
        {
            foreach (var database in _databases)
            {
                database.Dispose();
            }
        }
    }
}
