// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.Json;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// Issue 20's failure test for the registry, with real processes: two <c>xbus registry serve</c>
/// on one throwaway PostgreSQL cluster, each in its own data folder with the same keys. A node's
/// configuration client (in this test's process, polling over real sockets and TLS) keeps
/// refreshing while one registry process is killed with SIGKILL; the node's configuration keeps
/// advancing from the other, and the database holds each version once, one after another.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ActiveActiveProcessTests() : OnEachEngine(StorageEngine.Postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Test]
    public async Task KillOneRegistryProcess_NodeKeepsRefreshingFromTheOther_NoVersionForked()
    {
        var database = NewDatabase()!;
        var root = Directory.CreateTempSubdirectory("xbus-active-active-").FullName;
        var (first, second, nodeFolder) = (Path.Combine(root, "registry-1"), Path.Combine(root, "registry-2"), Path.Combine(root, "node"));
        Directory.CreateDirectory(nodeFolder);
        var processes = new List<Process>();
        using var stop = new CancellationTokenSource();
        try
        {
            var init = await Xbus.RunAsync("registry", "init", "--data", first, "--instance", RegistryFixture.Instance, "--postgres", database);
            Assert.That(init.ExitCode, Is.Zero, init.Error);
            RegistryInstances.CopyKeys(Path.Combine(first, RegistryKeys.Folder), Path.Combine(second, RegistryKeys.Folder));
            processes.Add(await Xbus.StartRegistryAsync(first, "--postgres", database));
            processes.Add(await Xbus.StartRegistryAsync(second, "--postgres", database));
            string[] both = [Endpoints(first).Grpc, Endpoints(second).Grpc];

            using var keys = RegistryKeys.Load(Path.Combine(first, RegistryKeys.Folder), TimeProvider.System);
            using var shared = RegistryDatabase.Open(first, database);
            var store = new RegistryStore(shared, keys, TimeProvider.System);
            await Eventually.Until(() => store.CurrentView()?.RegistryAddresses.Count == 2, "the configuration lists both instances", Patience);
            Assert.That(store.CurrentView()!.RegistryAddresses, Is.EquivalentTo(both));

            var anchorPath = Path.Combine(nodeFolder, "anchor.json");
            var export = await Xbus.RunAsync("registry", "anchor", "export", "--data", first, "--postgres", database, "--out", anchorPath);
            Assert.That(export.ExitCode, Is.Zero, export.Error);
            var anchor = ConfigurationAnchor.Read(anchorPath);
            using var node = new GlobalConfigurationProvider(anchor, new NodePaths(nodeFolder), TimeProvider.System, NullLogger<GlobalConfigurationProvider>.Instance);
            Assert.That(await node.RefreshAsync(CancellationToken.None), Is.True);

            // The node refreshes over and over, as a node does on its interval, only faster.
            var refreshes = 0;
            var polling = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await node.RefreshAsync(stop.Token);
                        Interlocked.Increment(ref refreshes);
                    }
                    catch (RpcException)
                    {
                        // Counted by its absence: the conditions below wait on answered refreshes.
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        return;
                    }

                    await Task.Delay(50, CancellationToken.None);
                }
            });

            // Kill the instance the node last reached, without letting it say goodbye.
            var victim = Array.IndexOf(both, node.Registry.LastGood);
            Assert.That(victim, Is.Not.Negative);
            processes[victim].Kill();
            await processes[victim].WaitForExitAsync();
            var survivor = both[1 - victim];

            // Changes keep coming (an administrator's, here straight into the shared database); each publishes a version.
            for (var i = 0; i < 3; i++)
            {
                store.AddMemberClass("test", $"C{i}", $"class {i}");
                var newest = store.CurrentConfiguration().Version;
                await Eventually.Until(() => node.Latest!.Version == newest, $"the node reaches version {newest} from the surviving instance", Patience);
            }

            var before = Volatile.Read(ref refreshes);
            await Eventually.Until(() => Volatile.Read(ref refreshes) > before + 2, "refreshes keep being answered", Patience);
            Assert.That(node.Registry.LastGood, Is.EqualTo(survivor));

            using var connection = shared.OpenConnection();
            using var command = Sql.Command(connection, null, "SELECT version FROM configurations ORDER BY version");
            var versions = Sql.ReadAll(command, r => r.GetInt64(0));
            Assert.That(versions, Is.EqualTo(Enumerable.Range(1, versions.Count).Select(v => (long)v)), "each version once, one after another");
            Assert.That(versions[^1], Is.EqualTo((long)node.Latest!.Version));

            await stop.CancelAsync();
            await polling;
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync();
                process.Dispose();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static RegistryEndpoints Endpoints(string data) =>
        JsonSerializer.Deserialize<RegistryEndpoints>(File.ReadAllText(Path.Combine(data, RegistryEndpoints.FileName)))!;
}
