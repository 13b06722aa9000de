// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Tests.Files;
using Grpc.Core;
using ExchangeClient = ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeClient;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// A subsystem the registry disabled, calling and sending anyway: its member's real key signs,
/// its member's real node connects straight to the provider's peer listener (its own node would
/// refuse it). The provider's node has the configuration without it, and refuses before the
/// backend is called or anything is stored.
/// </summary>
[NonParallelizable]
public sealed class DisabledClientTests
{
    [Test]
    public async Task DisabledSubsystem_ItsRequestsAndFilesRefusedByTheProvider_WithUnknownClient()
    {
        await using var bus = await BusFixture.StartAsync();
        using (var admin = bus.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).SetSubsystemEnabledAsync(
                new SetEnabledRequest { Id = BusFixture.ClientSubsystem, Enabled = false }).ResponseAsync;
        }

        Assert.That(await bus.ProviderNode.Configuration.RefreshAsync(CancellationToken.None), Is.True);
        using var peer = bus.PeerChannel(bus.ClientNode.Keys.Authentication);

        var request = bus.SignAsClient(bus.RequestHeader());
        var refused = await Assert.ThrowsAsync<RpcException>(() => new ExchangeClient(peer).DeliverAsync(request).ResponseAsync);
        Assert.That(refused!.ErrorCode, Is.EqualTo(NodeErrors.ProviderUnknownClient), refused.Status.Detail);
        Assert.That(bus.BackendCalls, Is.Zero, "the backend must not be reached");
        Assert.That(bus.ProviderNode.Log.FindByMessageId(MessageHeader.Parser.ParseFrom(request.Header).MessageId), Is.Empty, "nothing goes into the provider's message log");

        var content = FileSyncSupport.RandomContent(10);
        var file = FileSyncSupport.Describe("disabled-1", content);
        var hashes = FileSyncSupport.ChunkHashes(content);
        var manifest = FileSyncSupport.Manifest(bus.ClientNode, file, hashes);
        var offer = await Assert.ThrowsAsync<RpcException>(() => new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = manifest }).ResponseAsync);
        Assert.That(offer!.ErrorCode, Is.EqualTo(NodeErrors.ProviderUnknownClient), offer.Status.Detail);
        var push = await Assert.ThrowsAsync<RpcException>(() => FileSyncSupport.PushAsync(peer, manifest, hashes, FileSyncSupport.Chunks(content)));
        Assert.That(push!.ErrorCode, Is.EqualTo(NodeErrors.ProviderUnknownClient), push.Status.Detail);
        FileSyncSupport.AssertNothingKept(bus.ProviderNode, file);
    }
}
