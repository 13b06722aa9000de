// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Grpc.Core;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>A registry whose database will not let it write answers UNAVAILABLE with Storage.Unavailable: try again, not "the registry is broken".</summary>
public sealed class PostgresUnavailableTests
{
    [Test]
    public async Task Change_WhileAnotherProcessHoldsTheWriterLock_UnavailableWithTheStableCode()
    {
        using var postgres = TempPostgres.StartOrIgnore();
        // A short lock_timeout through Options, which win over the bus's: the holder below keeps
        // the lock until the test ends, so the change gives up whatever the timing.
        var database = new NpgsqlConnectionStringBuilder(postgres.CreateDatabase()) { Options = "-c lock_timeout=200" }.ConnectionString;
        try
        {
            await using var registry = await RegistryFixture.StartAsync(postgres: database);
            using var holder = StoreDatabase.Postgres(database, "registry");
            using var holding = holder.Open();
            using var held = holder.BeginWrite(holding);
            using var admin = registry.AdminChannel();
            var management = new RegistryManagement.RegistryManagementClient(admin);

            var refusal = (await Assert.ThrowsAsync<RpcException>(async () => await management.AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync))!;

            Assert.That(refusal.StatusCode, Is.EqualTo(StatusCode.Unavailable));
            Assert.That(refusal.ErrorCode, Is.EqualTo(StorageErrors.Unavailable));
            held.Rollback();
            await management.AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
        }
    }
}
