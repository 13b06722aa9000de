// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Data.Common;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// Issue 20's "restart PostgreSQL" failure: the registry keeps running while its database is
/// restarted under it, changes are written all along, and afterwards it serves and writes again
/// by itself (no restart of the registry), with every change it acknowledged still there and one
/// configuration version after another.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class PostgresRestartTests() : OnEachEngine(StorageEngine.Postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Test]
    public async Task PostgresRestartedUnderWrites_RegistryRecoversByItself_NoAcknowledgedChangeLost_NoVersionForked()
    {
        var database = NewDatabase()!;
        var nodeFolder = Directory.CreateTempSubdirectory("xbus-node-").FullName;
        try
        {
            await using var registry = await RegistryFixture.StartAsync(postgres: database);
            var keys = registry.Server.Keys;
            var anchor = ConfigurationAnchor.Create(RegistryFixture.Instance, registry.Server.GrpcAddress, [keys.ConfigurationSigning], [keys.RootCertificate], DateTimeOffset.UtcNow, [keys.Tls]);
            using var node = new GlobalConfigurationProvider(anchor, new NodePaths(nodeFolder), TimeProvider.System, NullLogger<GlobalConfigurationProvider>.Instance);
            Assert.That(await node.RefreshAsync(CancellationToken.None), Is.True);

            // One writer adds member classes one after another, as an administrator would, and
            // keeps the ones it was told were done; the restart happens while it writes.
            var acknowledged = new ConcurrentQueue<string>();
            var refused = new ConcurrentQueue<Exception>();
            var afterRestart = 0;
            var restarted = false;
            using var stop = new CancellationTokenSource(Patience);
            var writer = Task.Run(() =>
            {
                for (var i = 0; afterRestart < 5 && !stop.IsCancellationRequested; i++)
                {
                    var code = $"C{i}";
                    try
                    {
                        registry.Store.AddMemberClass("test", code, "Class " + code);
                        acknowledged.Enqueue(code);
                        if (Volatile.Read(ref restarted))
                        {
                            afterRestart++;
                        }
                    }
                    catch (Exception ex) when (ex is DbException or StorageException)
                    {
                        refused.Enqueue(ex);
                        Thread.Sleep(50);
                    }
                }
            });

            await Eventually.Until(() => acknowledged.Count >= 3 || writer.IsCompleted, "the first changes written", Patience);
            Postgres.Restart();
            Volatile.Write(ref restarted, true);
            await writer;
            await TestContext.Out.WriteLineAsync($"{acknowledged.Count} changes acknowledged, {refused.Count} refused while the server restarted");
            Assert.That(afterRestart, Is.EqualTo(5), "the registry wrote again after the restart without being restarted itself");

            // What was refused while the server went down was refused as a database outage, the
            // kind RegistryCalls answers UNAVAILABLE, never as something else.
            Assert.That(refused, Has.All.Matches<Exception>(ex => ex is DbException { IsTransient: true } || ex is StorageException { Code: StorageErrors.Unavailable }),
                string.Join("; ", refused.Select(ex => ex.GetType().Name + ": " + ex.Message)));

            // Every acknowledged change is in the database, read on a connection of its own.
            using var shared = RegistryDatabase.Open(registry.Directory, database);
            using var connection = shared.OpenConnection();
            using (var classes = Sql.Command(connection, null, "SELECT code FROM member_classes"))
            {
                Assert.That(Sql.ReadAll(classes, r => r.GetString(0)), Is.SupersetOf(acknowledged));
            }

            using (var configurations = Sql.Command(connection, null, "SELECT version FROM configurations ORDER BY version"))
            {
                // The registry keeps its latest versions only (older ones pruned), so the run
                // starts where the pruning left it: each kept version is the one before plus one.
                var versions = Sql.ReadAll(configurations, r => r.GetInt64(0));
                Assert.That(versions, Is.EqualTo(Enumerable.Range(0, versions.Count).Select(i => versions[0] + i)), "one version after another, none twice");
                Assert.That(versions[^1], Is.EqualTo(registry.Store.CurrentConfiguration().Version));
            }

            // A node fetching the configuration gets the newest version, from the same registry process.
            var newest = registry.Store.CurrentConfiguration().Version;
            await Eventually.Until(async () => await node.RefreshAsync(CancellationToken.None) && node.Latest!.Version == newest, $"the node reaches version {newest}", Patience);
            Assert.That(node.Latest!.Version, Is.EqualTo(newest));
        }
        finally
        {
            Directory.Delete(nodeFolder, recursive: true);
        }
    }
}
