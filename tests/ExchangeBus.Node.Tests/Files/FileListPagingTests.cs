// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Tests.Exchange;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// <c>List</c> a page at a time: every file once, in one order, whatever the page size; a page
/// that is not the last always says so with a token; tokens only continue their own listing.
/// The client's subsystem sends real files; its received files are rows put straight into its
/// node's real <c>files.db</c> (<c>List</c> reads only the database), so one subsystem has both.
/// </summary>
[NonParallelizable]
public sealed class FileListPagingTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _local = _bus.LocalChannel();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task Walk_AnyPageSize_EveryFileOnceInTheSameOrder_OnlyTheLastPageWithoutToken()
    {
        for (var i = 0; i < 3; i++)
        {
            var content = RandomContent(1_000 + i);
            await SendAsync(_local, Metadata($"paged-sent-{i}", content, dossier: "paged", version: (uint)(3 - i)), content);
        }

        await InsertReceivedAsync("paged", Enumerable.Range(0, 3).Select(i => $"paged-received-{i}"));

        var whole = await new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "paged" }).ResponseAsync;
        Assert.That(whole.NextPageToken, Is.Empty);
        var expected = whole.Files.Select(f => (f.Direction, f.Metadata.FileId)).ToList();
        Assert.That(expected, Is.EqualTo(new[]
        {
            ("sent", "paged-sent-2"), ("sent", "paged-sent-1"), ("sent", "paged-sent-0"),
            ("received", "paged-received-0"), ("received", "paged-received-1"), ("received", "paged-received-2"),
        }), "sent files first, each by dossier version");

        foreach (var size in new uint[] { 1, 2, 3, 4, 5, 6, 7 })
        {
            var walked = new List<(string, string)>();
            var pages = new List<int>();
            var request = new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "paged", PageSize = size };
            while (true)
            {
                var page = await new FilesClient(_local).ListAsync(request).ResponseAsync;
                walked.AddRange(page.Files.Select(f => (f.Direction, f.Metadata.FileId)));
                pages.Add(page.Files.Count);
                if (page.NextPageToken.Length == 0)
                {
                    break;
                }

                Assert.That(page.Files, Has.Count.EqualTo(size), $"page size {size}: a page with a token is full");
                request.PageToken = page.NextPageToken;
            }

            Assert.That(walked, Is.EqualTo(expected), $"page size {size}");
            Assert.That(pages.Count, Is.EqualTo((6 + (int)size - 1) / (int)size), $"page size {size}: no empty page at the end");
        }
    }

    [Test]
    public async Task MoreFilesThanTheLargestPage_NothingDropped_EachPageSaysMoreFollow()
    {
        const int Count = 10_001;
        await InsertReceivedAsync("many", Enumerable.Range(0, Count).Select(i => $"many-{i:D5}"));

        // Asked for more than a page may hold: the largest page, and a token for the rest.
        var largest = await new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "many", PageSize = 50_000 }).ResponseAsync;
        Assert.That(largest.Files, Has.Count.EqualTo(10_000));
        Assert.That(largest.NextPageToken, Is.Not.Empty, "the caller learns there is more");
        var rest = await new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "many", PageToken = largest.NextPageToken }).ResponseAsync;
        Assert.That(rest.Files.Select(f => f.Metadata.FileId), Is.EqualTo(new[] { "many-10000" }));
        Assert.That(rest.NextPageToken, Is.Empty);

        // Unasked, a page of 1,000: walked to the end, every file exactly once.
        var ids = new List<string>();
        var request = new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "many" };
        var pages = 0;
        do
        {
            var page = await new FilesClient(_local).ListAsync(request).ResponseAsync;
            ids.AddRange(page.Files.Select(f => f.Metadata.FileId));
            request.PageToken = page.NextPageToken;
            pages++;
        }
        while (request.PageToken.Length > 0);

        Assert.That(pages, Is.EqualTo(11));
        Assert.That(ids, Is.EqualTo(Enumerable.Range(0, Count).Select(i => $"many-{i:D5}")));
    }

    [Test]
    public async Task PageToken_NotGivenByTheNodeOrForAnotherListing_Refused()
    {
        await InsertReceivedAsync("token-a", ["token-a-0", "token-a-1"]);
        var first = await new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "token-a", PageSize = 1 }).ResponseAsync;
        Assert.That(first.NextPageToken, Is.Not.Empty);

        await AssertRefused(() => new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "token-b", PageToken = first.NextPageToken }).ResponseAsync, FileErrors.BadPageToken);
        await AssertRefused(() => new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, PageToken = first.NextPageToken }).ResponseAsync, FileErrors.BadPageToken);
        foreach (var garbage in new[] { "not a token", "AQ", first.NextPageToken[..^2], first.NextPageToken + "AA" })
        {
            await AssertRefused(() => new FilesClient(_local).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "token-a", PageToken = garbage }).ResponseAsync, FileErrors.BadPageToken);
        }
    }

    /// <summary>Inbox rows for the client's subsystem, as if the provider's subsystem had sent them, in the given order.</summary>
    private async Task InsertReceivedAsync(string dossier, IEnumerable<string> fileIds)
    {
        var sender = SubsystemId.Parse(BusFixture.ProviderSubsystem);
        var at = DateTimeOffset.UtcNow;
        await Task.WhenAll(fileIds.Select(id => _bus.ClientNode.Files.Database.InsertReceivedAsync(new InboxEntry(
            BusFixture.ClientSubsystem,
            new FileDescription(id, sender, dossier, 1, "citizen-9", "text/plain", "note.txt", 3, SHA256.HashData([1, 2, 3]), ChunkBytes),
            "VN/GOV/000.00.00.H01/node-1", [], [], DeliveryState.Delivered, at, at), _ => [])));
    }
}
