// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// node.json edited while the provider runs: access rules and services take effect for the next
/// call; an invalid file or one naming another node is refused and the settings in force stay.
/// </summary>
[NonParallelizable]
public sealed class SettingsReloadTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;
    private NodePaths _provider = null!;
    private NodeSettings _original = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _local = _bus.LocalChannel();
        _provider = new NodePaths(Path.Combine(_bus.Root, "provider"));
        _original = NodeSettings.Read(_provider.Settings);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
    }

    [TearDown]
    public void Restore()
    {
        _original.Write(_provider.Settings);
        _bus.ProviderNode.Settings.Reload();
    }

    [Test]
    public async Task AccessRuleRemoved_RefusesTheNextCall_AndRestoredAllowsAgain()
    {
        Assert.That((await Call()).Payload.ToStringUtf8(), Does.StartWith("echo:"));

        Apply(_original with { AccessRules = [] });
        var before = _bus.BackendCalls;
        var ex = await Assert.ThrowsAsync<RpcException>(Call);
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.AccessDenied));
        Assert.That(_bus.BackendCalls, Is.EqualTo(before));

        Apply(_original);
        Assert.That((await Call()).Payload.ToStringUtf8(), Does.StartWith("echo:"));
    }

    [Test]
    public async Task ServiceRemoved_IsUnknownToTheNextCall()
    {
        Apply(_original with { Services = [.. _original.Services.Where(s => s.Service != BusFixture.Service)] });

        var ex = await Assert.ThrowsAsync<RpcException>(Call);

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.UnknownService));
    }

    [Test]
    public async Task InvalidFile_IsRefused_AndTheSettingsInForceStay()
    {
        var inForce = _bus.ProviderNode.Settings.Current;
        File.WriteAllText(_provider.Settings, "{ \"node\": ");

        var reload = _bus.ProviderNode.Settings.Reload();

        Assert.That(reload.IsApplied, Is.False);
        Assert.That(reload.ErrorCode, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(_bus.ProviderNode.Settings.Current, Is.SameAs(inForce));
        Assert.That((await Call()).Payload.ToStringUtf8(), Does.StartWith("echo:"));
        Assert.That(_bus.ProviderNode.Settings.Reload(), Is.SameAs(SettingsReload.Unchanged), "a refused file is reported once");
    }

    /// <summary>
    /// node.json there when looked at, gone when opened (an editor or a deployment tool replacing
    /// it): a link to nowhere is exactly that, every time. It was an exception out of Reload, which
    /// ended the node's polling for good.
    /// </summary>
    [Test]
    public async Task FileGoneWhenOpened_IsRefusedAsMissing_AndTheSettingsInForceStay()
    {
        var inForce = _bus.ProviderNode.Settings.Current;
        File.Delete(_provider.Settings);
        File.CreateSymbolicLink(_provider.Settings, Path.Combine(_bus.Root, "nowhere", "node.json"));

        var reload = _bus.ProviderNode.Settings.Reload();

        Assert.That(reload.IsApplied, Is.False);
        Assert.That(reload.ErrorCode, Is.EqualTo(NodeErrors.SettingsMissing));
        Assert.That(_bus.ProviderNode.Settings.Current, Is.SameAs(inForce));
        Assert.That((await Call()).Payload.ToStringUtf8(), Does.StartWith("echo:"));
    }

    [Test]
    public void FileNamingAnotherNode_IsRefused()
    {
        (_original with { Node = BusFixture.Provider + "/ss9" }).Write(_provider.Settings);

        var reload = _bus.ProviderNode.Settings.Reload();

        Assert.That(reload.ErrorCode, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(reload.Message, Does.Contain("ss9"));
        Assert.That(_bus.ProviderNode.Settings.Current.Node, Is.EqualTo(_original.Node));
    }

    [Test]
    public void UnchangedFile_IsNotReadAgain()
    {
        Assert.That(_bus.ProviderNode.Settings.Reload(), Is.SameAs(SettingsReload.Unchanged));
    }

    private void Apply(NodeSettings settings)
    {
        settings.Write(_provider.Settings);
        var reload = _bus.ProviderNode.Settings.Reload();
        Assert.That(reload.IsApplied, Is.True, reload.Message);
    }

    private Task<CallResponse> Call() =>
        new LocalGateway.LocalGatewayClient(_local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8("hello"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
}
