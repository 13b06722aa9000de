// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Node.Tests.Configuration;

/// <summary>
/// node.json as an <c>IOptionsMonitor&lt;NodeSettings&gt;</c>: what a service composed by DI sees
/// is what the node applies. An applied edit reaches the monitor's value and its listeners; a
/// refused one leaves the settings in force there too, not an exception on the next read.
/// </summary>
public sealed class NodeSettingsMonitorTests
{
    private const string Member = "VN/GOV/000.00.00.G01";

    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-settings-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task AnAppliedEdit_ReachesTheMonitorAndItsListeners_ARefusedOneLeavesTheSettingsInForce()
    {
        var path = Path.Combine(_folder, "node.json");
        new NodeSettings { Node = Member + "/ss1", Address = "127.0.0.1:5500" }.Write(path);
        await using var source = NodeSettingsSource.Open(path, TimeProvider.System, NullLogger.Instance);
        NodeSettings? heard = null;
        using var listening = source.Monitor.OnChange((settings, _) => heard = settings);

        (source.Current with { AccessRules = [new AccessRule { Service = Member + "/registry/lookup", Subject = Member }] }).Write(path);
        var applied = source.Reload();

        Assert.That(applied.IsApplied, Is.True, applied.Message);
        Assert.That(source.Monitor.CurrentValue.AccessRules, Has.Count.EqualTo(1));
        Assert.That(heard, Is.SameAs(source.Monitor.CurrentValue));
        Assert.That(source.Current, Is.SameAs(source.Monitor.CurrentValue));

        var inForce = source.Monitor.CurrentValue;
        await File.WriteAllTextAsync(path, "{ \"node\": ");
        var refused = source.Reload();

        Assert.That(refused.ErrorCode, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(source.Monitor.CurrentValue, Is.SameAs(inForce));
        Assert.That(source.Current, Is.SameAs(inForce));
    }
}
