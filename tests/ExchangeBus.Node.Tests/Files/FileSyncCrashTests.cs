// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using ExchangeBus.Tests.Shared;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// Issue 6: "kill -9 of the recipient mid-transfer and of the sender with a full outbox: after
/// restart every file arrives once, hash intact". Both nodes run as real <c>xbus node serve</c>
/// processes and are killed with SIGKILL; the registry stays in the test.
/// </summary>
[NonParallelizable]
public sealed class FileSyncCrashTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    // Quick retries: the test waits for the recipient to come back, not for the default back-off.
    private static readonly string[] QuickRetries = ["--file-retry-ms", "200"];

    private readonly List<NodeProcess> _processes = [];
    private BusFixture _bus = null!;
    private string _work = null!;

    [SetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.PrepareAsync();
        _work = Directory.CreateTempSubdirectory("xbus-files-crash-").FullName;
    }

    [TearDown]
    public async Task TearDown()
    {
        foreach (var process in _processes)
        {
            try
            {
                await process.DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // A process killed earlier in the test can report "no process is associated"
                // when it is waited for again; it is gone either way.
            }
        }

        SqliteConnection.ClearAllPools();
        await _bus.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public async Task RecipientKilledMidTransfer_FileArrivesOnceAfterRestart_ResumedAndIntact()
    {
        var recipient = await StartAsync(_bus.ProviderData[0]);
        var sender = await StartAsync(_bus.ClientData, QuickRetries);
        const int size = 256 * 1024 * 1024;
        var (path, sha) = await WriteRandomFileAsync(size);

        using var local = BusChannel.Create(new Uri(sender.LocalAddress), new BusChannelOptions());
        await SendFileAsync(local, "crash-recipient", path, size, sha);

        // Killed once it holds a few verified chunks of the file, well before the end.
        var incoming = Path.Combine(_bus.ProviderData[0].Paths.Files, "incoming");
        await WaitUntil(() => LiveFolder.Lengths(incoming, "*.part").Any(length => length >= 8 * ChunkBytes));
        await recipient.KillAsync();
        var held = Directory.GetFiles(incoming, "*.part").Select(p => new FileInfo(p).Length).Single();
        Assert.That(held, Is.LessThan(size), "killed mid-transfer");

        recipient = await StartAsync(_bus.ProviderData[0]);
        var state = await SettledAsync(local, "crash-recipient", patience: Patience);

        Assert.That(state.State, Is.EqualTo(DeliveryState.Delivered), state.Reason + Environment.NewLine + sender.Output);
        Assert.That(state.ResumedFrom, Is.GreaterThan(0).And.LessThanOrEqualTo(held), "resumed from the verified bytes the killed node left");
        using var inbox = BusChannel.Create(new Uri(recipient.LocalAddress), new BusChannelOptions());
        var received = await ReceiveAllAsync(inbox);
        Assert.That(received, Has.Count.EqualTo(1));
        Assert.That(received[0].FileId, Is.EqualTo("crash-recipient"));
        Assert.That(received[0].Sha256, Is.EqualTo(sha));
        Assert.That(received[0].Length, Is.EqualTo(size));
    }

    [Test]
    public async Task SenderKilledWithAFullOutbox_EveryFileArrivesOnceAfterRestart()
    {
        const int files = 40;

        // The recipient is down: every file is accepted and waits in the outbox, retried.
        var sender = await StartAsync(_bus.ClientData, QuickRetries);
        var hashes = new Dictionary<string, byte[]>();
        using (var local = BusChannel.Create(new Uri(sender.LocalAddress), new BusChannelOptions()))
        {
            for (var i = 0; i < files; i++)
            {
                var content = RandomContent(100_000 + i);
                hashes[$"outbox-{i}"] = SHA256.HashData(content);
                await SendAsync(local, Metadata($"outbox-{i}", content), content);
            }

            var first = await new FilesClient(local).StatusAsync(new StatusRequest { Client = BusFixture.ClientSubsystem, FileId = "outbox-0" }).ResponseAsync;
            Assert.That(first.Recipients.Single().State, Is.AnyOf(DeliveryState.Accepted, DeliveryState.Sending));
        }

        await sender.KillAsync();
        var recipient = await StartAsync(_bus.ProviderData[0]);
        sender = await StartAsync(_bus.ClientData, QuickRetries);

        using (var local = BusChannel.Create(new Uri(sender.LocalAddress), new BusChannelOptions()))
        {
            foreach (var id in hashes.Keys)
            {
                var state = await SettledAsync(local, id, patience: Patience);
                Assert.That(state.State, Is.EqualTo(DeliveryState.Delivered), $"{id}: {state.Reason}");
            }
        }

        using var inbox = BusChannel.Create(new Uri(recipient.LocalAddress), new BusChannelOptions());
        var received = await ReceiveAllAsync(inbox);
        Assert.That(received.Select(r => r.FileId), Is.EquivalentTo(hashes.Keys), "each file once");
        Assert.That(received.All(r => r.Sha256.AsSpan().SequenceEqual(hashes[r.FileId])), Is.True, "hashes intact");
    }

    /// <summary>
    /// "Every step goes into the message log", through crashes: both nodes are killed with SIGKILL
    /// while files are being accepted and delivered, restarted, then stopped normally. Each file,
    /// outbox row and inbox row then has its records in the node's message log exactly once: none
    /// lost between the files.db commit and the log's, none logged twice by the replay.
    /// </summary>
    [Test]
    public async Task BothNodesKilledUnderLoad_EveryStateHasItsLogRecordsExactlyOnce()
    {
        var recipient = await StartAsync(_bus.ProviderData[0]);
        var sender = await StartAsync(_bus.ClientData, QuickRetries);
        var accepted = 0;
        using var stop = new CancellationTokenSource();
        using (var local = BusChannel.Create(new Uri(sender.LocalAddress), new BusChannelOptions()))
        {
            var senders = Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var content = RandomContent(20_000 + i);
                    try
                    {
                        await SendAsync(local, Metadata($"load-{n}-{i}", content), content);
                        Interlocked.Increment(ref accepted);
                    }
                    catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException or InvalidOperationException)
                    {
                        // The node was killed under this call: whether it was accepted is for files.db to say.
                        return;
                    }
                }
            })).ToList();

            // Killed in the middle of accepting and delivering, not at a quiet moment.
            await WaitUntil(() => Volatile.Read(ref accepted) >= 60);
            await Task.WhenAll(sender.KillAsync(), recipient.KillAsync());
            stop.Cancel();
            await Task.WhenAll(senders);
        }

        recipient = await StartAsync(_bus.ProviderData[0]);
        sender = await StartAsync(_bus.ClientData, QuickRetries);
        Assert.That(await sender.TerminateAsync(Patience), Is.Zero, sender.Output);
        Assert.That(await recipient.TerminateAsync(Patience), Is.Zero, recipient.Output);

        var sent = _bus.ClientData.Paths;
        var files = Records.Scalar(sent.FilesDatabase, "SELECT COUNT(*) FROM files;");
        Assert.That(files, Is.GreaterThanOrEqualTo(60), "the files answered as accepted are there");
        Assert.That(Records.Scalar(sent.MessageLog, "SELECT COUNT(*) FROM records WHERE direction = 6 AND status = 'OK';"), Is.EqualTo(files), "one acceptance record per file");
        Assert.That(
            Records.Scalar(sent.MessageLog, "SELECT COUNT(*) FROM records WHERE direction = 7 AND status = 'OK';"),
            Is.EqualTo(Records.Scalar(sent.FilesDatabase, "SELECT COUNT(*) FROM outbox;")), "one manifest record per delivery");
        Assert.That(
            Records.Scalar(sent.MessageLog, "SELECT COUNT(*) FROM records WHERE direction = 10;"),
            Is.EqualTo(Records.Scalar(sent.FilesDatabase, "SELECT COUNT(*) FROM outbox WHERE receipt IS NOT NULL;")), "one receipt record per delivered file");
        Assert.That(Records.Scalar(sent.FilesDatabase, "SELECT COUNT(*) FROM log_outbox;"), Is.Zero);

        var received = _bus.ProviderData[0].Paths;
        var inbox = Records.Scalar(received.FilesDatabase, "SELECT COUNT(*) FROM inbox;");
        Assert.That(inbox, Is.GreaterThan(0), "the recipient received files before it was killed");
        Assert.That(Records.Scalar(received.MessageLog, "SELECT COUNT(*) FROM records WHERE direction = 8 AND status = 'OK';"), Is.EqualTo(inbox), "one manifest record per received file");
        Assert.That(Records.Scalar(received.MessageLog, "SELECT COUNT(*) FROM records WHERE direction = 9;"), Is.EqualTo(inbox), "one receipt record per received file");
        Assert.That(Records.Scalar(received.FilesDatabase, "SELECT COUNT(*) FROM log_outbox;"), Is.Zero);
    }

    private async Task<NodeProcess> StartAsync(BusFixture.EnrolledNode node, params string[] extra)
    {
        var process = NodeProcess.Start(node, extra);
        _processes.Add(process);
        await process.WaitUntilReadyAsync(Patience);
        return process;
    }

    private async Task<(string Path, byte[] Sha256)> WriteRandomFileAsync(int size)
    {
        var path = Path.Combine(_work, "large.bin");
        var random = new Random(6);
        var buffer = new byte[ChunkBytes];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = File.Create(path))
        {
            for (var written = 0; written < size; written += buffer.Length)
            {
                random.NextBytes(buffer);
                hash.AppendData(buffer);
                await file.WriteAsync(buffer);
            }
        }

        return (path, hash.GetHashAndReset());
    }

    private static async Task SendFileAsync(GrpcChannel local, string fileId, string path, long size, byte[] sha)
    {
        using var call = new FilesClient(local).Send();
        await call.WriteOrAnswerAsync(new SendRequest
        {
            Metadata = new FileMetadata
            {
                FileId = fileId, Sender = BusFixture.ClientSubsystem, DossierId = "crash", DossierVersion = 1, ContentType = "application/octet-stream",
                FileName = "large.bin", Size = (ulong)size, Sha256 = ByteString.CopyFrom(sha), Recipients = { BusFixture.ProviderSubsystem },
            },
        });
        var buffer = new byte[ChunkBytes];
        await using (var file = File.OpenRead(path))
        {
            int n;
            while ((n = await file.ReadAsync(buffer)) > 0)
            {
                await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(buffer, 0, n) });
            }
        }

        await call.CompleteOrAnswerAsync();
        Assert.That((await call.ResponseAsync).Created, Is.True);
    }

    /// <summary>Every pending file for the provider's subsystem, with the length and SHA-256 of what the node streams.</summary>
    private static async Task<List<(string FileId, byte[] Sha256, long Length)>> ReceiveAllAsync(GrpcChannel inbox)
    {
        using var call = new FilesClient(inbox).Receive(new ReceiveRequest { Recipient = BusFixture.ProviderSubsystem, IncludeContent = true });
        var files = new List<(string, byte[], long)>();
        string? current = null;
        IncrementalHash? hash = null;
        long length = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var part = call.ResponseStream.Current;
            if (part.PartCase == ReceiveResponse.PartOneofCase.File)
            {
                if (current is not null)
                {
                    files.Add((current, hash!.GetHashAndReset(), length));
                    hash.Dispose();
                }

                current = part.File.Metadata.FileId;
                hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                length = 0;
            }
            else
            {
                hash!.AppendData(part.Chunk.Span);
                length += part.Chunk.Length;
            }
        }

        if (current is not null)
        {
            files.Add((current, hash!.GetHashAndReset(), length));
            hash.Dispose();
        }

        return files;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var giveUp = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), giveUp.Token);
        }
    }
}
