// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Text.Json;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Crashes" in the middle of a file transfer: the province sends a large file and a
/// few small ones to the ministry's licence office with <c>xbus files send</c>; once the
/// recipient's node holds part of the large one, the sender's node, the recipient's node or
/// the registry is killed with SIGKILL and started again. Every file must then be delivered
/// (<c>xbus files status</c>), handed out exactly once with its hash intact
/// (<c>xbus files receive</c>), both message logs must verify, and every SQLite file must be sound.
/// </summary>
public sealed class FileCrashProofTests
{
    // Large enough to be mid-flight when the kill comes: node to node moves some 30 MB/s here,
    // and a 64 MB file was delivered before a poll that began after the send could see it.
    private const int LargeBytes = 128 * 1024 * 1024;
    private const int SmallFiles = 3;
    private const string Large = "scan-large";

    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public Task SenderNodeKilledMidTransfer_EveryFileArrivesOnce_HashIntact() =>
        KillMidTransferAsync(() => _bus.ClientNode, transferGoesOn: false);

    [Test]
    public Task RecipientNodeKilledMidTransfer_EveryFileArrivesOnce_HashIntact() =>
        KillMidTransferAsync(() => _bus.ProviderNode, transferGoesOn: false);

    /// <summary>The nodes need no registry to move a file: it arrives while the registry is down.</summary>
    [Test]
    public Task RegistryKilledMidTransfer_EveryFileArrivesOnce_HashIntact() =>
        KillMidTransferAsync(() => _bus.Registry, transferGoesOn: true);

    private async Task KillMidTransferAsync(Func<XbusServer> victim, bool transferGoesOn)
    {
        var outgoing = Directory.CreateDirectory(Path.Combine(_bus.Root, "outgoing")).FullName;
        var sent = new Dictionary<string, (string Path, byte[] Sha256)>();
        for (var i = 0; i < SmallFiles; i++)
        {
            sent[$"form-{i}"] = Write(outgoing, $"form-{i}.pdf", 20_000 + (i * 45_000), seed: i);
        }

        sent[Large] = Write(outgoing, "scan.bin", LargeBytes, seed: 7);

        // The small ones first; the large one last, watched from before it is sent: its delivery
        // starts as soon as the node accepts it and takes only seconds. Killed once the recipient's
        // node holds a few verified chunks of it and the sender has answered the send (a sender
        // killed before it answered would leave the caller without its acceptance, another test).
        var incoming = Path.Combine(_bus.ProviderData, "files", "incoming");
        var objects = Path.Combine(_bus.ProviderData, "files", "objects");
        var midFlight = Task.Run(() => WaitUntilAsync(() => PartLength(incoming) >= 2 * 1024 * 1024
            || LiveFolder.Lengths(objects).Contains(LargeBytes)));
        foreach (var (id, file) in sent)
        {
            await Xbus.MustAsync(_bus.Root, "files", "send", file.Path, "--node", _bus.ClientLocal, "--client", ProofBus.Client, "--to", ProofBus.FileRecipient,
                "--file-id", id, "--subject-id", "VN-CITIZEN-0123456789");
        }

        await midFlight;
        await victim().KillAsync();
        var held = PartLength(incoming);
        TestContext.Progress.WriteLine($"{victim().Name} killed with {held:N0} of {LargeBytes:N0} bytes of the large file at the recipient");
        Assert.That(held, Is.GreaterThan(0).And.LessThan(LargeBytes), "killed mid-transfer");

        if (transferGoesOn)
        {
            await AllDeliveredAsync(sent.Keys);
        }

        victim().Restart();
        await victim().WaitUntilReadyAsync(ProofBus.Patience);
        var states = await AllDeliveredAsync(sent.Keys);
        TestContext.Progress.WriteLine($"delivered: {string.Join(", ", states.Select(s => $"{s.Key} (attempts {s.Value.Attempts}, resumed from {s.Value.ResumedFrom:N0})"))}");

        // Handed out once, intact: what `xbus files receive` saved hashes to what was sent.
        var inbox = Path.Combine(_bus.Root, "inbox");
        var received = await ReceiveAsync(inbox);
        Assert.That(received.Select(r => r.FileId), Is.EquivalentTo(sent.Keys), "each file once");
        foreach (var (id, name) in received)
        {
            Assert.That(SHA256.HashData(File.ReadAllBytes(Path.Combine(inbox, id, name))), Is.EqualTo(sent[id].Sha256), id);
        }

        Assert.That(await ReceiveAsync(Path.Combine(_bus.Root, "inbox-again")), Is.Empty, "nothing handed out twice");
        TestContext.Progress.WriteLine($"{received.Count} files received once, {sent.Values.Sum(f => new FileInfo(f.Path).Length):N0} bytes, hashes intact");

        if (victim() == _bus.Registry)
        {
            await Xbus.MustAsync(_bus.Root, "registry", "audit-log", "verify", "--data", _bus.RegistryData);
        }

        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ClientNode.Output);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ProviderNode.Output);
        await ProofLoad.AssertLogVerifiesAsync(_bus, _bus.ClientData);
        await ProofLoad.AssertLogVerifiesAsync(_bus, _bus.ProviderData);
        TestContext.Progress.WriteLine($"{ProofLoad.AssertEveryDatabaseSound(_bus)} SQLite files sound");
    }

    /// <summary>Polls `xbus files status` until every file is delivered to the licence office; a failed delivery fails the test.</summary>
    private async Task<Dictionary<string, (int Attempts, long ResumedFrom)>> AllDeliveredAsync(IEnumerable<string> ids)
    {
        var delivered = new Dictionary<string, (int, long)>();
        using var giveUp = new CancellationTokenSource(ProofBus.Patience);
        foreach (var id in ids)
        {
            while (true)
            {
                var output = await Xbus.MustAsync(_bus.Root, "files", "status", "--node", _bus.ClientLocal, "--client", ProofBus.Client, "--file-id", id, "--json");
                using var status = JsonDocument.Parse(output);
                var recipient = status.RootElement.GetProperty("recipients").EnumerateArray().Single();
                var state = recipient.GetProperty("state").GetString();
                Assert.That(state, Is.Not.EqualTo("DELIVERY_STATE_FAILED"), $"{id}: {output}{Environment.NewLine}{_bus.Outputs}");
                if (state == "DELIVERY_STATE_DELIVERED")
                {
                    delivered[id] = (recipient.TryGetProperty("attempts", out var a) ? a.GetInt32() : 0,
                        recipient.TryGetProperty("resumedFrom", out var r) ? long.Parse(r.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0);
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), giveUp.Token);
            }
        }

        return delivered;
    }

    /// <summary>`xbus files receive --ack` into <paramref name="folder"/>: the id and name of each file it saved (it checks each hash itself).</summary>
    private async Task<List<(string FileId, string Name)>> ReceiveAsync(string folder)
    {
        var output = await Xbus.MustAsync(_bus.Root, "files", "receive", "--node", _bus.ProviderLocal, "--recipient", ProofBus.FileRecipient, "--out", folder, "--ack", "--json");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
        {
            using var file = JsonDocument.Parse(line);
            var metadata = file.RootElement.GetProperty("metadata");
            return (metadata.GetProperty("fileId").GetString()!, metadata.GetProperty("fileName").GetString()!);
        }).ToList();
    }

    /// <summary>The longest part in the recipient's <c>incoming/</c>; watched while the node renames a complete one away.</summary>
    private static long PartLength(string incoming) => LiveFolder.Lengths(incoming, "*.part").DefaultIfEmpty(0).Max();

    private static (string Path, byte[] Sha256) Write(string folder, string name, int size, int seed)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return (path, SHA256.HashData(content));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var giveUp = new CancellationTokenSource(ProofBus.Patience);
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), giveUp.Token);
        }
    }
}
