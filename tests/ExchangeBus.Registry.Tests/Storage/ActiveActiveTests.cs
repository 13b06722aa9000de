// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// Two registry servers on one PostgreSQL database, each in its own data folder holding the same
/// keys: the configuration lists both, and a node whose anchor names only the first keeps
/// getting newer configurations from the second once the first is gone.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ActiveActiveTests() : OnEachEngine(StorageEngine.Postgres)
{
    [Test]
    public async Task TwoInstances_ConfigurationListsBoth_NodeFailsOverWhenTheFirstStops_NoVersionForked()
    {
        await using var instances = await TwoInstances.StartAsync(NewDatabase()!);
        var (first, second, database, nodeFolder) = (instances.First, instances.Second, instances.Database, instances.NodeFolder);
        var both = new[] { first.Server.GrpcAddress, second.GrpcAddress };
        Assert.That(second.Store.RegistryAddresses().Select(a => a.Grpc), Is.EqualTo(both), "each instance added its own address, in the order they started");
        var listed = second.Store.CurrentView()!;
        Assert.That((listed.RegistryAddress, listed.RegistryAddresses), Is.EqualTo((both[0], (IReadOnlyList<string>)both)));

        // The node's anchor names the first instance only, as an anchor exported before the second existed does.
        var keys = first.Server.Keys;
        var anchor = ConfigurationAnchor.Create(RegistryFixture.Instance, both[0], [keys.ConfigurationSigning], [keys.RootCertificate], DateTimeOffset.UtcNow, [keys.Tls]);
        Assert.That(anchor.RegistryAddresses, Is.EqualTo(new[] { both[0] }));
        using var node = new GlobalConfigurationProvider(anchor, new NodePaths(nodeFolder), TimeProvider.System, NullLogger<GlobalConfigurationProvider>.Instance);
        Assert.That(await node.RefreshAsync(CancellationToken.None), Is.True);
        Assert.That(node.Registry.Addresses, Is.EqualTo(both), "learnt from the configuration");
        Assert.That(node.Registry.LastGood, Is.EqualTo(both[0]));

        await first.Server.DisposeAsync();
        second.Store.AddMemberClass("test", "GOV", "Government");
        var newest = second.Store.CurrentConfiguration().Version;

        Assert.That(await node.RefreshAsync(CancellationToken.None), Is.True, "the second instance answered");
        Assert.That((node.Latest!.Version, node.Registry.LastGood), Is.EqualTo((newest, both[1])));

        using var shared = RegistryDatabase.Open(instances.SecondFolder, database);
        using var connection = shared.OpenConnection();
        using var command = Sql.Command(connection, null, "SELECT version FROM configurations ORDER BY version");
        var versions = Sql.ReadAll(command, r => r.GetInt64(0));
        Assert.That(versions, Is.EqualTo(Enumerable.Range(1, versions.Count).Select(v => (long)v)), "one version after another, none twice");
    }

    [Test]
    public async Task AnchorExport_TwoInstances_NamesBoth_ReadsBack_AndANodeStartsOnTheSecondWhenTheFirstIsGone()
    {
        await using var instances = await TwoInstances.StartAsync(NewDatabase()!);
        var (first, second, database, nodeFolder) = (instances.First, instances.Second, instances.Database, instances.NodeFolder);
        var anchorPath = Path.Combine(nodeFolder, "anchor.json");
        var export = await Xbus.RunAsync("registry", "anchor", "export", "--data", first.Directory, "--postgres", database, "--out", anchorPath);
        Assert.That(export.ExitCode, Is.Zero, export.Output + export.Error);
        var anchor = ConfigurationAnchor.Read(anchorPath);
        Assert.That(anchor.RegistryAddresses, Is.EqualTo(new[] { first.Server.GrpcAddress, second.GrpcAddress }));
        Assert.That(export.Output, Does.Contain(anchor.FingerprintForReading));

        // A node's first start, nothing cached, the anchor's first instance gone: the second answers.
        await first.Server.DisposeAsync();
        using var node = new GlobalConfigurationProvider(anchor, new NodePaths(nodeFolder), TimeProvider.System, NullLogger<GlobalConfigurationProvider>.Instance);
        Assert.That(await node.RefreshAsync(CancellationToken.None), Is.True);
        Assert.That(node.Registry.LastGood, Is.EqualTo(second.GrpcAddress));
    }

    /// <summary>A registry fixture and a second server on its database, in a folder of its own with a copy of its keys; and a node's folder.</summary>
    private sealed class TwoInstances : IAsyncDisposable
    {
        private TwoInstances(RegistryFixture first, RegistryServer second, string database, string secondFolder, string nodeFolder) =>
            (First, Second, Database, SecondFolder, NodeFolder) = (first, second, database, secondFolder, nodeFolder);

        public RegistryFixture First { get; }

        public RegistryServer Second { get; }

        public string Database { get; }

        public string SecondFolder { get; }

        public string NodeFolder { get; }

        public static async Task<TwoInstances> StartAsync(string database)
        {
            var first = await RegistryFixture.StartAsync(postgres: database);
            var secondFolder = Directory.CreateTempSubdirectory("xbus-registry-second-").FullName;
            RegistryInstances.CopyKeys(first.KeysDirectory, Path.Combine(secondFolder, RegistryKeys.Folder));
            var second = await RegistryServer.StartAsync(new RegistryServerOptions
            {
                DataDirectory = secondFolder, Postgres = database, GrpcListen = "127.0.0.1:0", HttpListen = "127.0.0.1:0",
            });
            return new TwoInstances(first, second, database, secondFolder, Directory.CreateTempSubdirectory("xbus-node-").FullName);
        }

        public async ValueTask DisposeAsync()
        {
            await Second.DisposeAsync();
            await First.DisposeAsync();
            Directory.Delete(SecondFolder, recursive: true);
            Directory.Delete(NodeFolder, recursive: true);
        }
    }
}
