// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Tests.Exchange;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// <c>files.keepContentDays</c>: content leaves <c>objects/</c> once every file naming it has been
/// final for the retention, on both nodes; shared content stays while any file needs it; records
/// and hashes stay. The passes are run with a clock two days ahead, so nothing here waits on time.
/// </summary>
[NonParallelizable]
public sealed class ContentRetentionTests
{
    [Test]
    public async Task ContentNoFileNames_RemovedOnceStale_NamedHeldAndFreshContentKept()
    {
        // A crash between content entering objects/ and its row committing leaves content that no
        // file names; the sweep removes it once it is as old as a stale part (default 7 days).
        await using var bus = await BusFixture.StartAsync();
        using var sender = bus.LocalChannel();
        var named = RandomContent(30_000);
        await SendAsync(sender, Metadata("named", named), named);
        var client = bus.ClientNode.Files;
        var namedSha = SHA256.HashData(named);
        var old = DateTime.UtcNow.AddDays(-8);
        File.SetLastWriteTimeUtc(client.Store.ObjectPath(namedSha), old);

        byte[] Orphan(DateTime written)
        {
            var content = RandomContent(1_000);
            var sha = SHA256.HashData(content);
            File.WriteAllBytes(client.Store.ObjectPath(sha), content);
            File.SetLastWriteTimeUtc(client.Store.ObjectPath(sha), written);
            return sha;
        }

        var stale = Orphan(old);
        var held = Orphan(old);
        var fresh = Orphan(DateTime.UtcNow);
        var staleBefore = DateTimeOffset.UtcNow.AddDays(-7);
        using (client.Hold(held))
        {
            Assert.That(client.RemoveUnnamedContent(staleBefore), Is.EqualTo(1));
            Assert.That(client.Store.Has(held), Is.True, "a call holds it");
        }

        Assert.That(client.Store.Has(stale), Is.False, "no file names it and it is stale");
        Assert.That(client.Store.Has(fresh), Is.True, "too new: a call may still be on its way to its row");
        Assert.That(client.Store.Has(namedSha), Is.True, "a file names it, however old");
        Assert.That(client.Store.Has(held), Is.False, "the holder, letting go of content no file names, removed it");
        Assert.That(client.RemoveUnnamedContent(staleBefore), Is.Zero);
    }

    [Test]
    public async Task FinishedContent_RemovedAfterTheRetention_SharedContentKeptWhileAFileNeedsIt_RecordsStay()
    {
        await using var bus = await BusFixture.StartAsync(files: new FileSyncOptions { KeepContent = TimeSpan.FromDays(1) });
        using var sender = bus.LocalChannel();
        using var recipient = bus.ProviderLocalChannel();
        var shared = RandomContent(50_000);
        var other = RandomContent(60_000);
        var sharedSha = SHA256.HashData(shared);
        var otherSha = SHA256.HashData(other);
        await SendAsync(sender, Metadata("keep-a", shared, dossier: "keep-a"), shared);
        await SendAsync(sender, Metadata("keep-b", shared, dossier: "keep-b"), shared);
        await SendAsync(sender, Metadata("keep-c", other, dossier: "keep-c"), other);
        foreach (var id in new[] { "keep-a", "keep-b", "keep-c" })
        {
            Assert.That((await SettledAsync(sender, id)).State, Is.EqualTo(DeliveryState.Delivered));
        }

        var provider = bus.ProviderNode.Files;
        var client = bus.ClientNode.Files;
        var later = DateTimeOffset.UtcNow.AddDays(2);
        Assert.That(provider.RemoveFinishedContent(later), Is.Zero, "delivered, not acknowledged: still to be received");

        await AcknowledgeAsync(recipient, "keep-a");
        await AcknowledgeAsync(recipient, "keep-c");
        Assert.That(provider.RemoveFinishedContent(DateTimeOffset.UtcNow), Is.Zero, "within the retention");
        using (provider.Hold(otherSha))
        {
            Assert.That(provider.RemoveFinishedContent(later), Is.Zero, "content a call holds is never removed");
        }

        Assert.That(provider.RemoveFinishedContent(later), Is.EqualTo(1));
        Assert.That(provider.Store.Has(otherSha), Is.False, "keep-c's content is gone");
        Assert.That(provider.Store.Has(sharedSha), Is.True, "keep-b still needs the content it shares with keep-a");

        await AcknowledgeAsync(recipient, "keep-b");
        Assert.That(provider.RemoveFinishedContent(later), Is.EqualTo(1));
        Assert.That(provider.Store.Has(sharedSha), Is.False);

        // The records and hashes stay: status and list still describe every file.
        var status = await new FilesClient(recipient).StatusAsync(new StatusRequest { Client = BusFixture.ProviderSubsystem, FileId = "keep-c" }).ResponseAsync;
        Assert.That(status.Metadata.Sha256.ToByteArray(), Is.EqualTo(otherSha));
        Assert.That(status.Recipients.Single().State, Is.EqualTo(DeliveryState.Acknowledged));
        Assert.That(provider.Database.GetReceived(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "keep-a")?.Receipt, Is.Not.Empty);

        // The sender's node keeps its copies until it knows each delivery is final (its status asks).
        Assert.That(client.RemoveFinishedContent(later), Is.Zero, "delivered is not final for the sender");
        foreach (var id in new[] { "keep-a", "keep-b", "keep-c" })
        {
            Assert.That((await SettledAsync(sender, id)).State, Is.EqualTo(DeliveryState.Acknowledged));
        }

        Assert.That(client.RemoveFinishedContent(later), Is.EqualTo(2));
        Assert.That(client.Store.Has(sharedSha) || client.Store.Has(otherSha), Is.False);

        // Sending the same file id again is still recognised (by its hash), and the same content
        // under a new id travels and is kept while it is not final.
        Assert.That((await SendAsync(sender, Metadata("keep-a", shared, dossier: "keep-a"), shared)).Created, Is.False);
        await SendAsync(sender, Metadata("keep-d", shared, dossier: "keep-d"), shared);
        Assert.That((await SettledAsync(sender, "keep-d")).State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That(provider.Store.Has(sharedSha), Is.True);
        Assert.That(provider.RemoveFinishedContent(later), Is.Zero);
        Assert.That(client.RemoveFinishedContent(later), Is.Zero);
    }

    [Test]
    public async Task TheHourlySweep_AppliesTheRetention()
    {
        await using var bus = await BusFixture.StartAsync(files: new FileSyncOptions { KeepContent = TimeSpan.FromMilliseconds(1), StalePartSweepInterval = TimeSpan.FromMilliseconds(200) });
        using var sender = bus.LocalChannel();
        using var recipient = bus.ProviderLocalChannel();
        var content = RandomContent(10_000);
        await SendAsync(sender, Metadata("swept-1", content), content);
        Assert.That((await SettledAsync(sender, "swept-1")).State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That(bus.ProviderNode.Files.Store.Has(SHA256.HashData(content)), Is.True);

        await AcknowledgeAsync(recipient, "swept-1");
        await WaitUntilAsync(() => Task.FromResult(!bus.ProviderNode.Files.Store.Has(SHA256.HashData(content))));
    }

    [Test]
    public void Retention_NotPositive_RefusedAtStart()
    {
        Assert.That(Problems(new FileSyncOptions { KeepContent = TimeSpan.Zero }), Has.Some.Contains("files.keepContentDays"));
        Assert.That(Problems(new FileSyncOptions { KeepContent = TimeSpan.FromDays(-1) }), Has.Some.Contains("files.keepContentDays"));
        Assert.That(Problems(new FileSyncOptions()), Is.Empty, "unset: kept");
    }

    private static IEnumerable<string> Problems(FileSyncOptions files) =>
        new NodeServerOptionsValidator().Validate(null, new NodeServerOptions { DataDirectory = "data", LocalTlsListen = "127.0.0.1:0", Files = files }).Failures ?? [];

    private static Task<AcknowledgeResponse> AcknowledgeAsync(GrpcChannel recipient, string fileId) =>
        new FilesClient(recipient).AcknowledgeAsync(new AcknowledgeRequest { Recipient = BusFixture.ProviderSubsystem, Sender = BusFixture.ClientSubsystem, FileId = fileId }).ResponseAsync;
}
