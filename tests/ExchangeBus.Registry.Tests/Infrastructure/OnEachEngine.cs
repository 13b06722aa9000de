// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Tests.Shared;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>
/// The base of a test class whose tests run once on each engine: the class carries
/// <c>[TestFixture(StorageEngine.Sqlite)]</c> and <c>[TestFixture(StorageEngine.Postgres)]</c>
/// and starts its registries through <see cref="StartRegistryAsync"/>. On PostgreSQL the fixture
/// starts one cluster (<see cref="TempPostgres"/>, ignored without PostgreSQL, failed in CI) and
/// each registry gets a database of its own.
/// </summary>
public abstract class OnEachEngine(StorageEngine engine)
{
    private TempPostgres? _postgres;

    protected StorageEngine Engine { get; } = engine;

    [OneTimeSetUp]
    public void StartEngine()
    {
        if (Engine == StorageEngine.Postgres)
        {
            _postgres = TempPostgres.StartOrIgnore();
        }
    }

    [OneTimeTearDown]
    public void StopEngine()
    {
        if (_postgres is not null)
        {
            NpgsqlConnection.ClearAllPools();
            _postgres.Dispose();
        }
    }

    /// <summary>The fixture's cluster, for tests that work the server itself (roles, refusals, a restart); PostgreSQL fixtures only.</summary>
    private protected TempPostgres Postgres => _postgres ?? throw new InvalidOperationException("A SQLite fixture has no PostgreSQL cluster.");

    /// <summary>A new database's connection string on PostgreSQL; null on SQLite (registry.db in the registry's folder).</summary>
    protected string? NewDatabase() => _postgres?.CreateDatabase();

    protected Task<RegistryFixture> StartRegistryAsync(
        bool autoApprove = false, TimeProvider? timeProvider = null, ConnectionLimits? limits = null, Func<RegistryServerOptions, RegistryServerOptions>? configure = null) =>
        RegistryFixture.StartAsync(autoApprove, timeProvider, limits, configure, NewDatabase());
}
