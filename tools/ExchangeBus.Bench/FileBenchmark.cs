// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Cli.Files;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using Google.Protobuf;

namespace ExchangeBus.Bench;

/// <summary>
/// <c>xbus bench files</c> (issue 6): a large file node to node beside a plain gRPC streaming copy
/// of the same bytes, then many small files to three recipient subsystems. Both nodes are
/// <c>xbus node serve</c> processes; the registry and the load run in this process.
/// </summary>
internal static class FileBenchmark
{
    private const string Sender = "VN/GOV/000.00.00.G01";
    private const string SenderSubsystem = Sender + "/licence";
    private const string Recipient = "VN/GOV/000.00.00.H01";
    private static readonly string[] Recipients = [Recipient + "/registry", Recipient + "/archive", Recipient + "/audit"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const int ChunkBytes = 1024 * 1024;

    // The small files have a dossier of their own, so the list the bench polls holds only them
    // (and it walks List's pages: a page holds at most 10,000 files).
    private const string LargeDossier = "bench-large";
    private const string SmallDossier = "bench-small";
    private const string WarmUpDossier = "bench-warm-up";

    public static Command Create()
    {
        var large = new Option<int>("--large-mib") { Description = "Size of the large file, MiB.", DefaultValueFactory = _ => 1024 };
        var count = new Option<int>("--files") { Description = "How many small files.", DefaultValueFactory = _ => 10_000 };
        var small = new Option<int>("--small-kib") { Description = "Size of each small file, KiB.", DefaultValueFactory = _ => 100 };
        var senders = new Option<int>("--senders") { Description = "Small files sent at once.", DefaultValueFactory = _ => 8 };
        var parallel = new Option<int>("--parallel-deliveries") { Description = "The sender node's deliveries at once.", DefaultValueFactory = _ => 16 };
        var warmUp = new Option<int>("--warm-up-mib")
        {
            Description = "Size of a first file sent through each path and not measured (0: none; the figures are then a new process's).",
            DefaultValueFactory = _ => 256,
        };
        var warmUpFiles = new Option<int>("--warm-up-files")
        {
            Description = "Small files sent (to the same three recipients) and delivered before the measured ones, not measured (0: none; the small-file figures then include compiling that path's code).",
            DefaultValueFactory = _ => 0,
        };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary folder." };
        var command = new Command("files", "File sync: a large file node to node beside a plain gRPC copy, then many small files to three recipients.")
        {
            large, count, small, senders, parallel, warmUp, warmUpFiles, keep,
        };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, () => RunAsync(
            parse.GetValue(large), parse.GetValue(count), parse.GetValue(small), parse.GetValue(senders), parse.GetValue(parallel), parse.GetValue(warmUp), parse.GetValue(warmUpFiles), parse.GetValue(keep),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken)));
        return command;
    }

    private static async Task RunAsync(
        int largeMib, int files, int smallKib, int senders, int parallel, int warmUpMib, int warmUpFiles, bool keep, TextWriter output, TextWriter progress, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("xbus-bench-files-").FullName;
        var logs = Directory.CreateDirectory(Path.Combine(root, "logs")).FullName;
        var owned = new List<IAsyncDisposable>();
        var report = new StringBuilder();
        try
        {
            progress.WriteLine($"[1/4] Registry and two enrolled nodes in {root}");
            var registry = await LoopbackRegistry.StartAsync(root, autoApprove: true).ConfigureAwait(false);
            owned.Add(registry);
            await registry.AddMemberAsync(Sender, "Ministry of Transport", SenderSubsystem).ConfigureAwait(false);
            await registry.AddMemberAsync(Recipient, "Ministry of Public Security", Recipients[0]).ConfigureAwait(false);
            foreach (var extra in Recipients.Skip(1))
            {
                await registry.Admin.AddSubsystemAsync(new AddSubsystemRequest { Subsystem = extra }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
            }

            var recipient = await registry.EnrolApprovedAsync("recipient", NodeId.Parse(Recipient + "/ss1"), cancellationToken).ConfigureAwait(false);
            (NodeSettings.Read(recipient.Paths.Settings) with
            {
                Clients = [.. Recipients.Select(r => new ClientSettings { Subsystem = r })],
                AccessRules = [.. Recipients.Select(r => new AccessRule { Service = $"{r}/{FileDocuments.ServiceCode}", Subject = SenderSubsystem })],
            }).Write(recipient.Paths.Settings);
            var sender = await registry.EnrolApprovedAsync("sender", NodeId.Parse(Sender + "/ss1"), cancellationToken).ConfigureAwait(false);
            (NodeSettings.Read(sender.Paths.Settings) with { Clients = [new ClientSettings { Subsystem = SenderSubsystem }] }).Write(sender.Paths.Settings);

            progress.WriteLine("[2/4] Node processes (xbus node serve) and a plain gRPC sink process (xbus bench file-sink)");
            var (recipientNode, _) = await StartNodeAsync("recipient-node", recipient.Paths, recipient.PeerPort, logs, owned, [], cancellationToken).ConfigureAwait(false);
            var (senderNode, senderLocal) = await StartNodeAsync("sender-node", sender.Paths, sender.PeerPort, logs, owned,
                ["--file-parallel-deliveries", parallel.ToString(CultureInfo.InvariantCulture)], cancellationToken).ConfigureAwait(false);
            var sinkPort = Loopback.FreePort();
            var sink = ChildProcess.Start("file-sink", logs, ChildProgram.Bench,
                ["file-sink", "--port", sinkPort.ToString(CultureInfo.InvariantCulture), "--out", Directory.CreateDirectory(Path.Combine(root, "sink")).FullName], FileSink.ReadyText);
            owned.Add(sink);
            await sink.WaitForReadyLineAsync(StartTimeout, cancellationToken).ConfigureAwait(false);

            using var sinkChannel = BusChannel.Create(new Uri($"http://127.0.0.1:{sinkPort}"), new BusChannelOptions());
            using var local = BusChannel.Create(senderLocal, new BusChannelOptions());
            if (warmUpMib > 0)
            {
                progress.WriteLine($"[3/4] Warm-up: a {warmUpMib} MiB file through the plain copy and the two nodes, not measured");
                await WarmUpAsync(root, warmUpMib, sinkChannel, local, cancellationToken).ConfigureAwait(false);
            }

            progress.WriteLine($"[3/4] One {largeMib} MiB file: plain gRPC copy, then through the two nodes");
            var (largePath, largeSha) = await WriteLargeFileAsync(root, "large.bin", largeMib, 0, cancellationToken).ConfigureAwait(false);
            var size = (long)largeMib * ChunkBytes;
            var sinkCpuBefore = sink.CpuTime;
            var baselineTime = Stopwatch.StartNew();
            var copied = await FileSink.CopyAsync(sinkChannel, largePath, cancellationToken).ConfigureAwait(false);
            baselineTime.Stop();
            var sinkCpu = sink.CpuTime - sinkCpuBefore;
            if (!copied.AsSpan().SequenceEqual(largeSha))
            {
                throw new CliException("Bench.CopyCorrupted", "The plain copy's SHA-256 differs from the file's.");
            }

            var nodes = new[] { senderNode, recipientNode };
            var cpuBefore = nodes.Select(n => n.CpuTime).ToArray();
            var total = Stopwatch.StartNew();
            await SendFileAsync(local, "large-1", largePath, size, largeSha, [Recipients[0]], cancellationToken).ConfigureAwait(false);
            var accepted = total.Elapsed;
            var acceptCpu = nodes.Select((n, i) => n.CpuTime - cpuBefore[i]).ToArray();
            var state = await WaitDeliveredAsync(local, "large-1", cancellationToken).ConfigureAwait(false);
            total.Stop();
            if (state.State != DeliveryState.Delivered)
            {
                throw new CliException("Bench.NotDelivered", $"The large file ended {DeliveryStates.Name(state.State)} {state.Reason}.");
            }

            var delivered = total.Elapsed - accepted;
            var largeCpu = nodes.Select((n, i) => n.CpuTime - cpuBefore[i]).ToArray();
            var memoryAfterLarge = new[] { senderNode.Memory(), recipientNode.Memory() };
            report.AppendLine(CultureInfo.InvariantCulture, $"Large file: {largeMib} MiB ({size / 1e6:0} MB), SHA-256 checked at both ends, {(warmUpMib > 0 ? $"after a {warmUpMib} MiB warm-up file through each path" : "no warm-up")}");
            report.AppendLine(CultureInfo.InvariantCulture, $"  plain gRPC streaming copy (one process to another, written and fsynced)  {baselineTime.Elapsed.TotalSeconds,7:0.00} s  {size / 1e6 / baselineTime.Elapsed.TotalSeconds,7:0} MB/s");
            report.AppendLine(CultureInfo.InvariantCulture, $"  bus: accepted by the sender node (stored, hashed, fsynced)              {accepted.TotalSeconds,7:0.00} s  {size / 1e6 / accepted.TotalSeconds,7:0} MB/s");
            report.AppendLine(CultureInfo.InvariantCulture, $"  bus: node to node (offer, push, chunk checks, fsync, receipt)          {delivered.TotalSeconds,7:0.00} s  {size / 1e6 / delivered.TotalSeconds,7:0} MB/s  ({delivered.TotalSeconds / baselineTime.Elapsed.TotalSeconds:0.00}× the copy's time)");
            report.AppendLine(CultureInfo.InvariantCulture, $"  bus: end to end (send until delivered)                                 {total.Elapsed.TotalSeconds,7:0.00} s  {size / 1e6 / total.Elapsed.TotalSeconds,7:0} MB/s");
            report.AppendLine(CultureInfo.InvariantCulture,
                $"  CPU (user+system) per MB: sender node {largeCpu[0].TotalMilliseconds / (size / 1e6):0.00} ms ({acceptCpu[0].TotalMilliseconds / (size / 1e6):0.00} of them accepting), recipient node {largeCpu[1].TotalMilliseconds / (size / 1e6):0.00} ms; the plain copy's sink {sinkCpu.TotalMilliseconds / (size / 1e6):0.00} ms");
            foreach (var m in memoryAfterLarge)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"  {m.Name}: peak resident {m.PeakMB:0} MB, now {m.ResidentMB:0} MB");
            }

            if (warmUpFiles > 0)
            {
                // As the warm-up file does for the large one: the figures are then a running node's,
                // not those of a process still compiling the small-file path (docs/performance.md).
                progress.WriteLine($"[4/4] Warm-up: {warmUpFiles:N0} files of {smallKib} KiB to three recipients, not measured");
                await SendSmallFilesAsync(local, "warm-", WarmUpDossier, warmUpFiles, smallKib * 1024, senders, cancellationToken).ConfigureAwait(false);
                if (await WaitAllDeliveredAsync(local, "warm-", WarmUpDossier, warmUpFiles, cancellationToken).ConfigureAwait(false) > 0)
                {
                    throw new CliException("Bench.NotDelivered", "The warm-up files were not all delivered.");
                }
            }

            progress.WriteLine($"[4/4] {files:N0} files of {smallKib} KiB to three recipients, {senders} at once");
            cpuBefore = nodes.Select(n => n.CpuTime).ToArray();
            var smallTime = Stopwatch.StartNew();
            await SendSmallFilesAsync(local, "small-", SmallDossier, files, smallKib * 1024, senders, cancellationToken).ConfigureAwait(false);
            var smallAccepted = smallTime.Elapsed;
            var pending = await WaitAllDeliveredAsync(local, "small-", SmallDossier, files, cancellationToken).ConfigureAwait(false);
            smallTime.Stop();
            report.AppendLine(CultureInfo.InvariantCulture, $"Small files: {files:N0} × {smallKib} KiB to {Recipients.Length} recipient subsystems on one node ({files * Recipients.Length:N0} deliveries), {parallel} deliveries at once{(warmUpFiles > 0 ? $", after {warmUpFiles:N0} warm-up files" : string.Empty)}");
            report.AppendLine(CultureInfo.InvariantCulture, $"  all accepted after {smallAccepted.TotalSeconds:0.0} s ({files / smallAccepted.TotalSeconds:0} files/s)");
            report.AppendLine(pending == 0
                ? string.Create(CultureInfo.InvariantCulture, $"  all delivered to all three after {smallTime.Elapsed.TotalSeconds:0.0} s ({files / smallTime.Elapsed.TotalSeconds:0} files/s, {files * Recipients.Length / smallTime.Elapsed.TotalSeconds:0} deliveries/s)")
                : string.Create(CultureInfo.InvariantCulture, $"  NOT all delivered: {pending} files still pending after {smallTime.Elapsed.TotalSeconds:0.0} s"));
            var smallCpu = nodes.Select((n, i) => n.CpuTime - cpuBefore[i]).ToArray();
            report.AppendLine(CultureInfo.InvariantCulture, $"  CPU (user+system) per file (three deliveries): sender node {smallCpu[0].TotalMilliseconds / files:0.0} ms, recipient node {smallCpu[1].TotalMilliseconds / files:0.0} ms");
            foreach (var m in new[] { senderNode.Memory(), recipientNode.Memory() })
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"  {m.Name}: peak resident {m.PeakMB:0} MB, now {m.ResidentMB:0} MB");
            }

            report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {File.ReadAllText("/proc/loadavg").Trim()}");
            output.Write(report.ToString());
        }
        finally
        {
            owned.Reverse();
            foreach (var item in owned)
            {
                await item.DisposeAsync().ConfigureAwait(false);
            }

            if (keep)
            {
                progress.WriteLine($"Kept {root}");
            }
            else
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task<(ChildProcess Process, Uri Local)> StartNodeAsync(
        string name, NodePaths paths, int peerPort, string logs, List<IAsyncDisposable> owned, string[] extra, CancellationToken cancellationToken)
    {
        var local = Loopback.FreePort();
        var metrics = Loopback.FreePort();
        var process = ChildProcess.Start(name, logs, ChildProgram.Xbus,
        [
            "node", "serve", "--data", paths.DataDirectory,
            "--peer-listen", $"127.0.0.1:{peerPort}", "--development", "--local-listen", $"127.0.0.1:{local}", "--metrics-listen", $"127.0.0.1:{metrics}", .. extra,
        ]);
        owned.Add(process);
        await process.WaitForReadyUrlAsync(new Uri($"http://127.0.0.1:{metrics}/health/ready"), StartTimeout, cancellationToken).ConfigureAwait(false);
        return (process, new Uri($"http://127.0.0.1:{local}"));
    }

    /// <summary>
    /// A first file through each path before the measured one, so the figures are a running
    /// node's, not a new process's: the nodes and the sink start just before, and the first MiBs
    /// of each path ran while the runtime was still compiling that path's code (tiered JIT).
    /// Profiled (perf), the JIT thread was half the sending node's CPU over a 1 GiB push and a
    /// fifth of the recipient's.
    /// </summary>
    private static async Task WarmUpAsync(string root, int mib, GrpcChannel sink, GrpcChannel local, CancellationToken cancellationToken)
    {
        var (path, sha) = await WriteLargeFileAsync(root, "warm-up.bin", mib, 1 << 30, cancellationToken).ConfigureAwait(false);
        var copied = await FileSink.CopyAsync(sink, path, cancellationToken).ConfigureAwait(false);
        if (!copied.AsSpan().SequenceEqual(sha))
        {
            throw new CliException("Bench.CopyCorrupted", "The plain copy's SHA-256 differs from the file's.");
        }

        await SendFileAsync(local, "warm-up", path, (long)mib * ChunkBytes, sha, [Recipients[0]], cancellationToken).ConfigureAwait(false);
        var state = await WaitDeliveredAsync(local, "warm-up", cancellationToken).ConfigureAwait(false);
        if (state.State != DeliveryState.Delivered)
        {
            throw new CliException("Bench.NotDelivered", $"The warm-up file ended {DeliveryStates.Name(state.State)} {state.Reason}.");
        }

        File.Delete(path);
    }

    /// <summary>
    /// Random-looking content without the cost of a CSPRNG per byte: one random MiB, each copy
    /// stamped with its index plus <paramref name="stamp"/> (so two files differ).
    /// </summary>
    private static async Task<(string Path, byte[] Sha256)> WriteLargeFileAsync(string root, string name, int mib, int stamp, CancellationToken cancellationToken)
    {
        var path = Path.Combine(root, name);
        var buffer = RandomNumberGenerator.GetBytes(ChunkBytes);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
        {
            for (var i = 0; i < mib; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer, stamp + i);
                hash.AppendData(buffer);
                await file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
        }

        return (path, hash.GetHashAndReset());
    }

    private static async Task SendFileAsync(GrpcChannel local, string id, string path, long size, byte[] sha, string[] to, CancellationToken cancellationToken)
    {
        using var call = new FilesClient(local).Send(new CallOptions(cancellationToken: cancellationToken));
        await call.WriteOrAnswerAsync(new SendRequest { Metadata = Metadata(id, LargeDossier, size, sha, to) }, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[ChunkBytes];
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            int n;
            while ((n = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(buffer, 0, n) }, cancellationToken).ConfigureAwait(false);
            }
        }

        await call.CompleteOrAnswerAsync().ConfigureAwait(false);
        await call.ResponseAsync.ConfigureAwait(false);
    }

    private static async Task SendSmallFilesAsync(GrpcChannel local, string prefix, string dossier, int files, int bytes, int senders, CancellationToken cancellationToken)
    {
        var seed = RandomNumberGenerator.GetBytes(bytes);
        await Parallel.ForAsync(0, files, new ParallelOptions { MaxDegreeOfParallelism = senders, CancellationToken = cancellationToken }, async (i, token) =>
        {
            // Each file distinct, so the store keeps every one (no deduplication to flatter the figure).
            var content = (byte[])seed.Clone();
            BinaryPrimitives.WriteInt32LittleEndian(content, i);
            using var call = new FilesClient(local).Send(new CallOptions(cancellationToken: token));
            await call.WriteOrAnswerAsync(new SendRequest { Metadata = Metadata($"{prefix}{i}", dossier, bytes, SHA256.HashData(content), Recipients) }, token).ConfigureAwait(false);
            await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(content) }, token).ConfigureAwait(false);
            await call.CompleteOrAnswerAsync().ConfigureAwait(false);
            await call.ResponseAsync.ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static FileMetadata Metadata(string id, string dossier, long size, byte[] sha, string[] to) => new()
    {
        FileId = id, Sender = SenderSubsystem, DossierId = dossier, DossierVersion = 1, ContentType = "application/octet-stream",
        FileName = id + ".bin", Size = (ulong)size, Sha256 = ByteString.CopyFrom(sha), Recipients = { to },
    };

    private static async Task<RecipientState> WaitDeliveredAsync(GrpcChannel local, string id, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = await new FilesClient(local).StatusAsync(new StatusRequest { Client = SenderSubsystem, FileId = id }, new CallOptions(cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            if (status.Recipients[0].State is DeliveryState.Delivered or DeliveryState.Failed)
            {
                return status.Recipients[0];
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls the sender's list until every small file is delivered to all its recipients; returns how many are not (0).</summary>
    private static async Task<int> WaitAllDeliveredAsync(GrpcChannel local, string prefix, string dossier, int files, CancellationToken cancellationToken)
    {
        var giveUp = DateTimeOffset.UtcNow.AddMinutes(30);
        while (true)
        {
            var list = await FilesCommands.ListAsync(local, new ListRequest { Client = SenderSubsystem, DossierId = dossier, PageSize = 10_000 }, limit: null, cancellationToken).ConfigureAwait(false);
            var small = list.Files.Where(f => f.Metadata.FileId.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (small.Any(f => f.State == DeliveryState.Failed))
            {
                throw new CliException("Bench.NotDelivered", "A small file's delivery failed; see the node logs (--keep).");
            }

            var pending = files - small.Count(f => f.State == DeliveryState.Delivered);
            if (pending == 0 || DateTimeOffset.UtcNow > giveUp)
            {
                return pending;
            }

            // Each poll lists every file the sender sent (10,000 in a full run), which costs the
            // sender's node CPU that the figure per file would count: once a second is enough.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// <c>xbus bench file-sink</c> (hidden): the large-file baseline. It takes a client stream of
/// byte chunks with the same gRPC transport the nodes use, over plaintext loopback, writes them
/// to a file while hashing, fsyncs it and answers the SHA-256: no signing, no checks, no database.
/// </summary>
internal static class FileSink
{
    public const string ReadyText = "file sink ready";

    private static readonly Method<byte[], byte[]> Copy = BytesGrpcMethods.Method(MethodType.ClientStreaming, "/bench.FileSink/Copy");

    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Loopback port to listen on.", Required = true };
        var folder = new Option<string>("--out") { Description = "Folder to write into.", Required = true };
        var command = new Command("file-sink", "The plain gRPC copy the file benchmark compares with.") { port, folder };
        command.Hidden = true;
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async () =>
        {
            var target = parse.GetValue(folder)!;
            await using var host = await LoopbackHost.StartAsync(parse.GetValue(port), grpc: true, app => app.MapBytesGrpcService(methods => methods
                .AddClientStreaming(Copy, async (chunks, context) =>
                {
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    await using var file = new FileStream(Path.Combine(target, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
                    while (await chunks.MoveNext(context.CancellationToken).ConfigureAwait(false))
                    {
                        hash.AppendData(chunks.Current);
                        await file.WriteAsync(chunks.Current, context.CancellationToken).ConfigureAwait(false);
                    }

                    file.Flush(flushToDisk: true);
                    return hash.GetHashAndReset();
                }))).ConfigureAwait(false);
            parse.InvocationConfiguration.Output.WriteLine($"{ReadyText} on {host.Address}");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM: the host stops when disposed.
            }
        }));
        return command;
    }

    /// <summary>Streams a file to the sink in 1 MiB messages; returns the SHA-256 the sink computed.</summary>
    public static async Task<byte[]> CopyAsync(GrpcChannel channel, string path, CancellationToken cancellationToken)
    {
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(Copy, host: null, new CallOptions(cancellationToken: cancellationToken));
        var buffer = new byte[1024 * 1024];
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            int n;
            while ((n = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await call.WriteOrAnswerAsync(buffer.AsMemory(0, n).ToArray(), cancellationToken).ConfigureAwait(false);
            }
        }

        await call.CompleteOrAnswerAsync().ConfigureAwait(false);
        return await call.ResponseAsync.ConfigureAwait(false);
    }
}
