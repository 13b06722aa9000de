// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using Google.Protobuf;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// The recipient's storage: too little free space (the configured reserve, and a real full disk on
/// a small tmpfs) refused with <see cref="FileErrors.InsufficientStorage"/>, nothing left, retried
/// by the sender until space comes back; stale part files swept away.
/// </summary>
[NonParallelizable]
public sealed class FileReceiverStorageTests
{
    private static readonly FileSyncOptions QuickRetries = new() { RetryBaseDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromMilliseconds(300) };

    [Test]
    public async Task ReserveAboveTheFreeSpace_OfferAndPushRefused_NothingKept_SenderRetries()
    {
        // More than any disk here has free: every file would eat into the reserve (the sending
        // node has none, or it would refuse the file itself).
        await using var bus = await BusFixture.StartAsync(
            files: QuickRetries with { FreeSpaceReserveBytes = long.MaxValue / 4, MaxAttempts = 3 }, clientFiles: QuickRetries with { FreeSpaceReserveBytes = 0, MaxAttempts = 3 });
        var content = RandomContent((2 * ChunkBytes) + 10);
        var file = Describe("reserve-1", content);
        var hashes = ChunkHashes(content);
        var peer = SenderPeerChannel(bus);
        var manifest = Manifest(bus.ClientNode, file, hashes);

        await AssertRefused(() => new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = manifest }).ResponseAsync, FileErrors.InsufficientStorage);
        await AssertRefused(() => PushAsync(peer, manifest, hashes, Chunks(content)), FileErrors.InsufficientStorage);
        AssertNothingKept(bus.ProviderNode, file);
        Assert.That(Directory.GetFiles(bus.ProviderNode.Files.Store.Incoming), Is.Empty);

        // The sending node treats it as transient: retried up to its attempt limit, not failed at once.
        using var local = bus.LocalChannel();
        await SendAsync(local, Metadata("reserve-2", content), content);
        var state = await SettledAsync(local, "reserve-2");
        Assert.That(state.State, Is.EqualTo(DeliveryState.Failed));
        Assert.That(state.Reason, Is.EqualTo(FileErrors.AttemptsExhausted));
        Assert.That(state.Attempts, Is.EqualTo(3));
        // The state's log record follows its row: waited for, not raced.
        string[] States() => [.. bus.ClientNode.Log.FindByMessageId("reserve-2").Where(e => e.Record.Direction == MessageDirection.FileState).Select(e => e.Record.Status)];
        await WaitUntilAsync(() => Task.FromResult(States().Length >= 4));
        Assert.That(States(), Is.EqualTo(new[] { "sending", FileErrors.InsufficientStorage, FileErrors.InsufficientStorage, FileErrors.AttemptsExhausted }));
    }

    [Test]
    public Task DiskFullOnTheRecipient_RefusedWithInsufficientStorage_NothingLeft_DeliveredOnceSpaceComesBack() =>
        Tmpfs.WithSmallStoreAsync(QuickRetries with { FreeSpaceReserveBytes = 0, MaxAttempts = 100_000 }, onSender: false, async (bus, store) =>
    {
        var peer = SenderPeerChannel(bus);

        // A file larger than the whole disk: refused when offered and when pushed, before a byte is written.
        var huge = RandomContent(12 * ChunkBytes);
        var hugeFile = Describe("disk-huge", huge);
        var hugeHashes = ChunkHashes(huge);
        var hugeManifest = Manifest(bus.ClientNode, hugeFile, hugeHashes);
        await AssertRefused(() => new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = hugeManifest }).ResponseAsync, FileErrors.InsufficientStorage);
        await AssertRefused(() => PushAsync(peer, hugeManifest, hugeHashes, Chunks(huge)), FileErrors.InsufficientStorage);
        AssertNothingKept(bus.ProviderNode, hugeFile);

        // A file that fits when its push starts, but the disk fills up under it (another writer):
        // the write meets ENOSPC, the part is deleted, the push refused with the same code.
        var content = RandomContent((5 * ChunkBytes) + 1);
        var file = Describe("disk-full", content);
        var hashes = ChunkHashes(content);
        var manifest = Manifest(bus.ClientNode, file, hashes);
        var filler = Path.Combine(store.Root, "filler");
        using (var call = new FileTransfer.FileTransferClient(peer).Push())
        {
            await call.WriteOrAnswerAsync(new PushRequest { Start = new PushStart { Manifest = manifest, ChunkHashes = ByteString.CopyFrom(hashes) } });
            var chunks = Chunks(content).ToList();
            foreach (var chunk in chunks.Take(2))
            {
                await call.WriteOrAnswerAsync(new PushRequest { Chunk = ByteString.CopyFrom(chunk) });
            }

            await WaitUntilAsync(async () => (await new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = manifest }).ResponseAsync).Offset == 2 * ChunkBytes);
            FillUp(filler);
            try
            {
                foreach (var chunk in chunks.Skip(2))
                {
                    await call.WriteOrAnswerAsync(new PushRequest { Chunk = ByteString.CopyFrom(chunk) });
                }

                await call.CompleteOrAnswerAsync();
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
            {
                // The recipient answered mid-stream; its answer is what counts.
            }

            var refused = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync);
            Assert.That(refused!.ErrorCode, Is.EqualTo(FileErrors.InsufficientStorage), refused.Status.Detail);
        }

        AssertNothingKept(bus.ProviderNode, file);
        Assert.That(Directory.GetFiles(store.Incoming), Is.Empty, "no part left in incoming/");
        Assert.That(Directory.GetFiles(store.Objects), Is.Empty, "no object");
        Assert.That(bus.ProviderNode.Log.FindByMessageId("disk-full").Select(e => e.Record.Status), Does.Contain(FileErrors.InsufficientStorage));

        // Sent for real while the disk is still full: the sender keeps retrying (transient)...
        using var local = bus.LocalChannel();
        var later = RandomContent((3 * ChunkBytes) + 5);
        await SendAsync(local, Metadata("disk-later", later), later);
        await WaitUntilAsync(async () =>
            (await new FilesClient(local).StatusAsync(new StatusRequest { Client = BusFixture.ClientSubsystem, FileId = "disk-later" }).ResponseAsync).Recipients.Single().Reason == FileErrors.InsufficientStorage);

        // ...and once space comes back, the file arrives, whole.
        File.Delete(filler);
        var state = await SettledAsync(local, "disk-later");
        Assert.That(state.State, Is.EqualTo(DeliveryState.Delivered), state.Reason);
        var sha = SHA256.HashData(later);
        Assert.That(SHA256.HashData(File.ReadAllBytes(store.ObjectPath(sha))), Is.EqualTo(sha));
        Assert.That(bus.ProviderNode.Files.Database.GetReceived(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "disk-later"), Is.Not.Null);
        Assert.That(Directory.GetFiles(store.Incoming), Is.Empty);
    });

    [Test]
    public async Task StaleParts_DeletedAtStartAndPeriodically_FreshOnesKept()
    {
        var hourOld = DateTime.UtcNow.AddHours(-2);
        await using var bus = await BusFixture.StartAsync(files: new FileSyncOptions { StalePartAge = TimeSpan.FromHours(1), StalePartSweepInterval = TimeSpan.FromMilliseconds(200) });
        var incoming = bus.ProviderNode.Files.Store.Incoming;
        var stale = Path.Combine(incoming, "stale.part");
        var fresh = Path.Combine(incoming, "fresh.part");
        File.WriteAllBytes(fresh, [1, 2, 3]);
        File.WriteAllBytes(stale, [1, 2, 3]);
        File.SetLastWriteTimeUtc(stale, hourOld);

        // While the node runs: the periodic sweep.
        await WaitUntilAsync(() => Task.FromResult(!File.Exists(stale)));
        Assert.That(File.Exists(fresh), Is.True, "a part written within the age is kept");

        // At start: what a node that was down (or crashed) left.
        await bus.StopProviderNodeAsync(0);
        var left = Path.Combine(incoming, "left.part");
        File.WriteAllBytes(left, [4, 5, 6]);
        File.SetLastWriteTimeUtc(left, hourOld);
        await using (await BusFixture.StartNodeAsync(bus.ProviderData[0], files: new FileSyncOptions { StalePartAge = TimeSpan.FromHours(1), StalePartSweepInterval = TimeSpan.FromDays(1) }))
        {
            Assert.That(File.Exists(left), Is.False, "deleted by the sweep at start");
            Assert.That(File.Exists(fresh), Is.True);
        }
    }

    /// <summary>Writes to <paramref name="path"/> until its filesystem has no room left.</summary>
    internal static void FillUp(string path)
    {
        var block = new byte[64 * 1024];
        using var filler = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                filler.Write(block);
            }
        }
        catch (IOException ex) when ((ex.HResult & 0xFFFF) == 28)
        {
            // ENOSPC: full.
        }
    }
}

/// <summary>Two subsystems of one node receiving the same file from the same sender.</summary>
[NonParallelizable]
public sealed class FileReceiverTwoRecipientsTests
{
    private const string Archive = BusFixture.Provider + "/archive";
    private BusFixture _bus = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(prepared: async b =>
        {
            // A second receiving subsystem on the provider's node, allowed to get files from the client.
            using var admin = b.AdminChannel();
            await new RegistryManagement.RegistryManagementClient(admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = Archive }).ResponseAsync;
            var paths = b.ProviderData[0].Paths;
            var settings = NodeSettings.Read(paths.Settings);
            (settings with
            {
                Clients = [.. settings.Clients, new ClientSettings { Subsystem = Archive }],
                AccessRules = [.. settings.AccessRules, new AccessRule { Service = Archive + "/receiveFiles", Subject = BusFixture.ClientSubsystem }],
            }).Write(paths.Settings);
        });
        await WaitUntilAsync(() => Task.FromResult(_bus.ProviderNode.Configuration.Latest?.SubsystemExists(Core.Identifiers.SubsystemId.Parse(Archive)) == true));
    }

    [OneTimeTearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task SameFileToTwoRecipientsAtOnce_EachHasItsOwnPart_BothDelivered()
    {
        var peer = SenderPeerChannel(_bus);
        var content = RandomContent((4 * ChunkBytes) + 99);
        var file = Describe("two-at-once", content);
        var hashes = ChunkHashes(content);
        var toRegistry = Manifest(_bus.ClientNode, file, hashes);
        var toArchive = Manifest(_bus.ClientNode, file, hashes, Archive);

        // The delivery to the registry breaks after two chunks; the one to the archive asks where
        // to start; the registry's then finishes; the archive's pushes from where it was told.
        await PushThenBreakAsync(peer, _bus.ProviderNode, file, toRegistry, hashes, content, 2);
        var archiveOffer = await new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = toArchive }).ResponseAsync;
        await PushAsync(peer, toRegistry, hashes, Chunks(content, 2), offset: 2 * ChunkBytes);
        var receipt = await PushAsync(peer, toArchive, hashes, Chunks(content, (int)(archiveOffer.Offset / ChunkBytes)), archiveOffer.Offset);

        Assert.That(archiveOffer.Offset, Is.Zero, "the archive holds nothing of the registry's part");
        VerifyDocument(receipt, file.Sha256, _bus.ProviderNode);
        var store = _bus.ProviderNode.Files.Store;
        foreach (var recipient in new[] { BusFixture.ProviderSubsystem, Archive })
        {
            Assert.That(_bus.ProviderNode.Files.Database.GetReceived(recipient, BusFixture.ClientSubsystem, "two-at-once")?.State, Is.EqualTo(DeliveryState.Delivered), recipient);
            Assert.That(File.Exists(store.PartPath(recipient, BusFixture.ClientSubsystem, "two-at-once", file.Sha256)), Is.False, recipient);
        }

        Assert.That(SHA256.HashData(File.ReadAllBytes(store.ObjectPath(file.Sha256))), Is.EqualTo(file.Sha256));
    }

    [Test]
    public async Task OneChunkFileToTwoSubsystems_TravelsOnce_TheSecondCompletedAtTheOffer()
    {
        using var local = _bus.LocalChannel();
        var content = RandomContent(100 * 1024);
        var metadata = Metadata("one-chunk-two", content);
        metadata.Recipients.Add(Archive);
        await SendAsync(local, metadata, content);

        StatusResponse status;
        var giveUp = DateTime.UtcNow.AddMinutes(1);
        do
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(giveUp), "the deliveries never settled");
            await Task.Delay(100);
            status = await new FilesClient(local).StatusAsync(new StatusRequest { Client = BusFixture.ClientSubsystem, FileId = "one-chunk-two" }).ResponseAsync;
        }
        while (status.Recipients.Any(r => r.State is DeliveryState.Accepted or DeliveryState.Sending));

        // The deliveries to one member's subsystems run one after the other: the first pushes the
        // content, the second is offered and completed from what the node holds (the offset it
        // reports is the whole file), each with a receipt of its own.
        Assert.That(status.Recipients.Select(r => r.State), Is.All.EqualTo(DeliveryState.Delivered), string.Join("; ", status.Recipients.Select(r => r.Reason)));
        Assert.That(status.Recipients.Select(r => r.ResumedFrom).Order(), Is.EqualTo(new ulong[] { 0, (ulong)content.Length }));
        foreach (var recipient in status.Recipients)
        {
            var receipt = VerifyDocument(recipient.Receipt, SHA256.HashData(content), _bus.ProviderNode);
            Assert.That(receipt.Service, Is.EqualTo(recipient.Recipient + "/receiveFiles"));
        }
    }

    [Test]
    public async Task FileTheNodeHoldsForAnotherRecipient_ReportedCompleteAtOffer_WithItsOwnReceipt()
    {
        var peer = SenderPeerChannel(_bus);
        var content = RandomContent((3 * ChunkBytes) + 7);
        var file = Describe("held-already", content);
        var hashes = ChunkHashes(content);
        await PushAsync(peer, Manifest(_bus.ClientNode, file, hashes), hashes, Chunks(content));

        var offer = await new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = Manifest(_bus.ClientNode, file, hashes, Archive) }).ResponseAsync;

        Assert.That(offer.Complete, Is.True, "nothing to transfer");
        Assert.That(offer.Offset, Is.EqualTo((ulong)content.Length));
        var receipt = VerifyDocument(offer.Receipt, file.Sha256, _bus.ProviderNode);
        Assert.That(receipt.Service, Is.EqualTo(Archive + "/receiveFiles"));
        Assert.That(_bus.ProviderNode.Files.Database.GetReceived(Archive, BusFixture.ClientSubsystem, "held-already")?.State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That(_bus.ProviderNode.Log.FindByMessageId("held-already").Count(e => e.Record.Direction == MessageDirection.FileReceiptSent), Is.EqualTo(2));

        // Only the same sender's same file: held content under another id still travels, so an
        // offer cannot be used to learn what the node holds.
        var probe = await new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = Manifest(_bus.ClientNode, file with { FileId = "held-probe" }, hashes, Archive) }).ResponseAsync;
        Assert.That(probe.Complete, Is.False);
        Assert.That(probe.Offset, Is.Zero);
    }
}

/// <summary>Mounts and unmounts a tmpfs with the system's mount command (root only).</summary>
internal static class Tmpfs
{
    /// <summary>
    /// Runs <paramref name="test"/> on a bus whose sender's or recipient's file store (objects,
    /// tmp, incoming, files.db) is on an 8 MiB tmpfs; ignored where one cannot be mounted.
    /// </summary>
    public static async Task WithSmallStoreAsync(FileSyncOptions files, bool onSender, Func<BusFixture, FileStore, Task> test)
    {
        string? mountPoint = null;
        string? mountFailure = null;
        var bus = await BusFixture.StartAsync(files: files, prepared: b =>
        {
            var store = (onSender ? b.ClientData : b.ProviderData[0]).Paths.Files;
            Directory.CreateDirectory(store);
            mountFailure = Mount(store, "8m");
            mountPoint = mountFailure is null ? store : null;
            return Task.CompletedTask;
        });
        try
        {
            if (mountFailure is not null)
            {
                Assert.Ignore($"A tmpfs cannot be mounted here (needs root): {mountFailure}");
            }

            var store = (onSender ? bus.ClientNode : bus.ProviderNode).Files.Store;
            Assert.That(store.AvailableBytes(), Is.LessThan(8L * 1024 * 1024), "the store is on the small tmpfs");
            await test(bus, store);
        }
        finally
        {
            var root = bus.Root;
            await bus.DisposeAsync();
            if (mountPoint is not null)
            {
                Unmount(mountPoint);
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Null when mounted; otherwise why not, for a test to skip with.</summary>
    public static string? Mount(string directory, string size)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", directory);
        if (code == 0)
        {
            return null;
        }

        if (output.Contains("permission denied", StringComparison.OrdinalIgnoreCase) || output.Contains("only root", StringComparison.OrdinalIgnoreCase)
            || output.Contains("not permitted", StringComparison.OrdinalIgnoreCase) || output.Contains("must be superuser", StringComparison.OrdinalIgnoreCase))
        {
            return output.Trim();
        }

        Assert.Fail($"mount failed (exit {code}): {output}");
        return output;
    }

    public static void Unmount(string directory)
    {
        if (Run("umount", directory).Code != 0)
        {
            // Something still has a file open there: detach it now, freed when let go.
            Run("umount", "-l", directory);
        }
    }

    private static (int Code, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }
}
