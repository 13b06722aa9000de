// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// A delivered file whose content has gone from the recipient node's store (removed by hand, or
/// lost to a power cut): it must not hold back the files after it.
/// </summary>
[NonParallelizable]
public sealed class LostContentTests
{
    [Test]
    public async Task ContentGoneFromTheStore_FileFailedWithItsCode_LaterFilesStillHandedOut()
    {
        await using var bus = await BusFixture.StartAsync();
        using var sender = bus.LocalChannel();
        using var recipient = bus.ProviderLocalChannel();
        var lost = RandomContent(120_000);
        var kept = RandomContent(130_000);
        await SendAsync(sender, Metadata("lost-1", lost), lost);
        Assert.That((await SettledAsync(sender, "lost-1")).State, Is.EqualTo(DeliveryState.Delivered));
        await SendAsync(sender, Metadata("kept-1", kept), kept);
        Assert.That((await SettledAsync(sender, "kept-1")).State, Is.EqualTo(DeliveryState.Delivered));

        File.Delete(bus.ProviderNode.Files.Store.ObjectPath(SHA256.HashData(lost)));

        // With the content, and then names only: the lost file is left out both times.
        foreach (var withContent in new[] { true, false })
        {
            var handedOut = new List<(string Id, long Bytes)>();
            using var call = new FilesClient(recipient).Receive(new ReceiveRequest { Recipient = BusFixture.ProviderSubsystem, IncludeContent = withContent });
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                var part = call.ResponseStream.Current;
                if (part.PartCase == ReceiveResponse.PartOneofCase.File)
                {
                    handedOut.Add((part.File.Metadata.FileId, 0));
                }
                else
                {
                    handedOut[^1] = (handedOut[^1].Id, handedOut[^1].Bytes + part.Chunk.Length);
                }
            }

            Assert.That(handedOut, Is.EqualTo(new[] { ("kept-1", withContent ? (long)kept.Length : 0L) }));
        }

        var status = await new FilesClient(recipient).StatusAsync(new StatusRequest { Client = BusFixture.ProviderSubsystem, FileId = "lost-1" }).ResponseAsync;
        Assert.That(status.Recipients.Select(r => (r.State, r.Reason)), Is.EqualTo(new[] { (DeliveryState.Failed, FileErrors.ContentMissing) }));
        // The record follows the state by a moment (file-sync.md, "Log outbox").
        int Logged() => bus.ProviderNode.Log.FindByMessageId("lost-1").Count(e => e.Record.Direction == MessageDirection.FileState && e.Record.Status == FileErrors.ContentMissing);
        await WaitUntilAsync(() => Task.FromResult(Logged() > 0));
        Assert.That(Logged(), Is.EqualTo(1), "failed and logged once, not at every Receive");
    }
}
