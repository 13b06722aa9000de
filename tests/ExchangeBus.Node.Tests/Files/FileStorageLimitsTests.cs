// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Tests.Shared;
using Google.Protobuf;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// Storage limits the sender's node applies to files its own systems send (the free-space reserve,
/// a disk that fills during a send), and <c>files.db</c> itself meeting a full disk on either
/// node: refused with <see cref="FileErrors.InsufficientStorage"/>, nothing half-written left.
/// The full-disk cases put a node's file store (objects, tmp, incoming, files.db) on a small
/// tmpfs, and are skipped, not passed, where one cannot be mounted.
/// </summary>
[NonParallelizable]
public sealed class FileStorageLimitsTests
{
    // 64 KiB: whole tmpfs pages, so the disk can be left with exactly the room the content takes.
    private const int ContentBytes = 64 * 1024;
    private static readonly FileSyncOptions NoReserve = new() { FreeSpaceReserveBytes = 0, RetryBaseDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromMilliseconds(300), MaxAttempts = 100_000 };

    [Test]
    public async Task ReserveAboveTheFreeSpace_SendRefusedBeforeItsContentIsWritten_NothingKept()
    {
        await using var bus = await BusFixture.StartAsync(files: NoReserve, clientFiles: NoReserve with { FreeSpaceReserveBytes = long.MaxValue / 4 });
        using var local = bus.LocalChannel();
        var content = RandomContent((3 * ChunkBytes) + 1);
        var store = bus.ClientNode.Files.Store;

        // Refused on the metadata: the node answers before the content is streamed, and nothing
        // reaches tmp/ (the deadline only keeps a node that waits for the content from hanging the test).
        using (var call = new FilesClient(local).Send(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30))))
        {
            await call.WriteOrAnswerAsync(new SendRequest { Metadata = Metadata("reserve-send", content) });
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync);
            Assert.That(refused!.ErrorCode, Is.EqualTo(FileErrors.InsufficientStorage), refused.Status.Detail);
            Assert.That(refused.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        }

        Assert.That(bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "reserve-send"), Is.Null, "no file row");
        Assert.That(store.Has(SHA256.HashData(content)), Is.False, "no object");
        Assert.That(Directory.GetFiles(store.Temp), Is.Empty, "no temporary file");
    }

    [Test]
    public Task DiskFullDuringASend_TemporaryFileDeleted_RefusedWithInsufficientStorage() => WithSmallStoreAsync(onSender: true, async (bus, store) =>
    {
        using var local = bus.LocalChannel();
        var content = RandomContent(4 * ChunkBytes);
        var filler = Path.Combine(store.Root, "filler");
        using (var call = new FilesClient(local).Send())
        {
            await call.WriteOrAnswerAsync(new SendRequest { Metadata = Metadata("disk-full-send", content) });
            await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(content, 0, 300_000) });

            // The reserve check passed and the content is being written: now another writer fills the disk.
            await WaitUntilAsync(() => Task.FromResult(LiveFolder.Lengths(store.Temp).Any(length => length > 0)));
            FileReceiverStorageTests.FillUp(filler);
            try
            {
                for (var at = 300_000; at < content.Length; at += 300_000)
                {
                    await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(content, at, Math.Min(300_000, content.Length - at)) });
                }

                await call.CompleteOrAnswerAsync();
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
            {
                // The node answered mid-stream; its answer is what counts.
            }

            var refused = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync);
            Assert.That(refused!.ErrorCode, Is.EqualTo(FileErrors.InsufficientStorage), refused.Status.Detail);
        }

        Assert.That(Directory.GetFiles(store.Temp), Is.Empty, "the temporary file is deleted");
        Assert.That(store.Has(SHA256.HashData(content)), Is.False, "no object");
        Assert.That(bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "disk-full-send"), Is.Null, "no file row");
    });

    [Test]
    public Task FilesDbMeetsAFullDiskOnSend_RefusedWithInsufficientStorage_NothingKept_AcceptedOnceSpaceComesBack() => WithSmallStoreAsync(onSender: true, async (bus, store) =>
    {
        using var local = bus.LocalChannel();
        var content = RandomContent(ContentBytes);
        var sha = SHA256.HashData(content);
        var filler = Path.Combine(store.Root, "filler");

        // Room for the content and not a page more: the content reaches objects/, then files.db's
        // transaction cannot grow its write-ahead log (SQLITE_FULL) and rolls back.
        LeaveFree(store, filler, ContentBytes);
        await AssertRefused(() => SendAsync(local, Metadata("db-full-send", content), content), FileErrors.InsufficientStorage);

        Assert.That(bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "db-full-send"), Is.Null, "no file row");
        Assert.That(bus.ClientNode.Files.Database.Outbox(BusFixture.ClientSubsystem, "db-full-send"), Is.Empty, "no outbox row");
        Assert.That(store.Has(sha), Is.False, "the content no row names is removed");
        Assert.That(Directory.GetFiles(store.Temp), Is.Empty, "no temporary file");

        // Space back: the same send is accepted as new and delivered.
        File.Delete(filler);
        var accepted = await SendAsync(local, Metadata("db-full-send", content), content);
        Assert.That(accepted.Created, Is.True);
        Assert.That((await SettledAsync(local, "db-full-send")).State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That(SHA256.HashData(File.ReadAllBytes(store.ObjectPath(sha))), Is.EqualTo(sha));
    });

    [Test]
    public Task FilesDbMeetsAFullDiskOnPush_RefusedWithInsufficientStorage_NothingKept_DeliveredOnceSpaceComesBack() => WithSmallStoreAsync(onSender: false, async (bus, store) =>
    {
        var peer = SenderPeerChannel(bus);
        var content = RandomContent(ContentBytes);
        var file = Describe("db-full-push", content);
        var hashes = ChunkHashes(content);
        var manifest = Manifest(bus.ClientNode, file, hashes);
        var filler = Path.Combine(store.Root, "filler");

        // Room for the pushed bytes only: the part fills it and becomes the object, then the inbox
        // row's transaction meets the full disk.
        LeaveFree(store, filler, ContentBytes);
        await AssertRefused(() => PushAsync(peer, manifest, hashes, Chunks(content)), FileErrors.InsufficientStorage);
        AssertNothingKept(bus.ProviderNode, file);
        Assert.That(Directory.GetFiles(store.Incoming), Is.Empty, "no part");

        File.Delete(filler);
        var receipt = await PushAsync(peer, manifest, hashes, Chunks(content));
        VerifyDocument(receipt, file.Sha256, bus.ProviderNode);
        Assert.That(bus.ProviderNode.Files.Database.GetReceived(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "db-full-push")?.State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That(SHA256.HashData(File.ReadAllBytes(store.ObjectPath(file.Sha256))), Is.EqualTo(file.Sha256));
    });

    /// <summary>Fills the store's filesystem, then gives back exactly <paramref name="bytes"/> (whole pages).</summary>
    private static void LeaveFree(FileStore store, string filler, int bytes)
    {
        FileReceiverStorageTests.FillUp(filler);
        using (var stream = new FileStream(filler, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(stream.Length - bytes);
        }

        Assert.That(store.AvailableBytes(), Is.EqualTo(bytes), "the disk has exactly the content's room");
    }

    private static Task WithSmallStoreAsync(bool onSender, Func<BusFixture, FileStore, Task> test) => Tmpfs.WithSmallStoreAsync(NoReserve, onSender, test);
}
