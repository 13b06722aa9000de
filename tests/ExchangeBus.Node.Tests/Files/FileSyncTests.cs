// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// File sync between two real nodes over real mutual TLS: the client's subsystem sends, the
/// provider's subsystem receives. Refusals are provoked by acting as the sender node itself
/// (its real keys and TLS certificate) and sending what an honest node never would.
/// </summary>
[NonParallelizable]
public sealed class FileSyncTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _sender = null!;
    private GrpcChannel _recipient = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _sender = _bus.LocalChannel();
        _recipient = _bus.ProviderLocalChannel();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _sender.Dispose();
        _recipient.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task Send_DeliveredReceivedAcknowledged_WithSignedAcceptanceAndReceipt()
    {
        var content = RandomContent((3 * ChunkBytes) + 12_345);
        var sha = SHA256.HashData(content);
        var accepted = await SendAsync(_sender, Metadata("happy-1", content), content);

        Assert.That(accepted.Created, Is.True);
        var acceptance = VerifyDocument(accepted.Acceptance, sha, _bus.ClientNode);
        Assert.That(acceptance.Kind, Is.EqualTo(MessageKind.FileAcceptance));
        Assert.That(acceptance.MessageId, Is.EqualTo("happy-1"));

        var state = await SettledAsync(_sender, "happy-1");
        Assert.That(state.State, Is.EqualTo(DeliveryState.Delivered), state.Reason);
        Assert.That(state.ResumedFrom, Is.Zero);
        var receipt = VerifyDocument(state.Receipt, sha, _bus.ProviderNode);
        Assert.That(receipt.Kind, Is.EqualTo(MessageKind.FileReceipt));
        Assert.That(receipt.SenderNode, Is.EqualTo(BusFixture.Provider + "/ss1"));

        // The recipient's system gets it with the sender's signed manifest, whole and intact.
        var (received, bytes) = await ReceiveOneAsync("happy-1");
        Assert.That(SHA256.HashData(bytes), Is.EqualTo(sha));
        Assert.That(received.Metadata.FileName, Is.EqualTo("application.pdf"));
        var manifest = VerifyDocument(received.Manifest, sha, _bus.ClientNode);
        Assert.That(manifest.Kind, Is.EqualTo(MessageKind.FileManifest));
        Assert.That(SHA256.HashData(EnvelopeDigestOf(received.Manifest, sha)), Is.EqualTo(receipt.RequestHash.ToByteArray()), "the receipt answers this manifest");

        // Unacknowledged, it comes again; acknowledged, it does not, and the sender learns it.
        Assert.That((await ReceiveOneAsync("happy-1")).File, Is.Not.Null);
        await new FilesClient(_recipient).AcknowledgeAsync(new AcknowledgeRequest { Recipient = BusFixture.ProviderSubsystem, Sender = BusFixture.ClientSubsystem, FileId = "happy-1" }).ResponseAsync;
        Assert.That(await PendingIdsAsync(), Does.Not.Contain("happy-1"));
        Assert.That((await SettledAsync(_sender, "happy-1")).State, Is.EqualTo(DeliveryState.Acknowledged));

        // Both message logs have the steps, with the file's hash and never its bytes. The sender's
        // last state record follows its state by a moment (file-sync.md, "Log outbox").
        await WaitUntilAsync(() => Task.FromResult(_bus.ClientNode.Log.FindByMessageId("happy-1").Any(e => e.Record.Direction == MessageDirection.FileState && e.Record.Status == "acknowledged")));
        var sent = _bus.ClientNode.Log.FindByMessageId("happy-1").Select(e => e.Record).ToList();
        var got = _bus.ProviderNode.Log.FindByMessageId("happy-1").Select(e => e.Record).ToList();
        Assert.That(sent.Select(r => r.Direction), Is.SupersetOf(new[] { MessageDirection.FileAccepted, MessageDirection.FileManifestSent, MessageDirection.FileReceiptReceived }));
        Assert.That(got.Select(r => r.Direction), Is.SupersetOf(new[] { MessageDirection.FileManifestReceived, MessageDirection.FileReceiptSent }));
        Assert.That(sent.Concat(got).Where(r => r.Direction == MessageDirection.FileState).Select(r => r.Status), Is.SupersetOf(new[] { "sending", "delivered", "acknowledged" }));
        Assert.That(sent.Concat(got).All(r => r.Body is null && r.BodySha256.AsSpan().SequenceEqual(sha)), Is.True);
        Assert.That(_bus.ClientNode.Log.Verify().IsValid, Is.True);
        Assert.That(_bus.ProviderNode.Log.Verify().IsValid, Is.True);

        // An auditor's full verification checks the file records' signatures like an exchange's.
        foreach (var node in new[] { _bus.ClientData, _bus.ProviderData[0] })
        {
            using var trust = LogVerifierTrust.Load(node.Paths.DataDirectory, anchorPath: null);
            using var log = MessageLogReader.Open(node.Paths.MessageLog);
            var report = new LogVerifier(log, trust).Verify();
            Assert.That(report.IsValid, Is.True, report.Detail);
            Assert.That(report.SignaturesChecked, Is.GreaterThanOrEqualTo(2));
        }
    }

    [Test]
    public async Task SameFileIdTwice_OneCopyAndTheSameAcceptance_OtherContentRefused()
    {
        var content = RandomContent(200_000);
        var first = await SendAsync(_sender, Metadata("twice-1", content), content);
        var second = await SendAsync(_sender, Metadata("twice-1", content), content);

        Assert.That(first.Created, Is.True);
        Assert.That(second.Created, Is.False);
        Assert.That(second.Acceptance, Is.EqualTo(first.Acceptance));
        Assert.That(Directory.GetFiles(_bus.ClientNode.Files.Store.Objects, Convert.ToHexStringLower(SHA256.HashData(content))), Has.Length.EqualTo(1));
        Assert.That(_bus.ClientNode.Files.Database.Outbox(BusFixture.ClientSubsystem, "twice-1"), Has.Count.EqualTo(1));
        Assert.That(_bus.ClientNode.Log.FindByMessageId("twice-1").Count(e => e.Record.Direction == MessageDirection.FileAccepted), Is.EqualTo(1));

        var other = RandomContent(200_000);
        await AssertRefused(() => SendAsync(_sender, Metadata("twice-1", other), other), FileErrors.FileIdConflict);
        Assert.That(_bus.ClientNode.Files.Store.Has(SHA256.HashData(other)), Is.False);
        Assert.That((await SettledAsync(_sender, "twice-1")).State, Is.EqualTo(DeliveryState.Delivered));
    }

    [Test]
    public async Task PartialTransfer_ResumedFromWhatTheRecipientHolds()
    {
        var content = RandomContent((4 * ChunkBytes) + 777);
        var file = Describe("resume-1", content);
        var hashes = ChunkHashes(content);
        var peer = SenderPeerChannel(_bus);
        var manifest = Manifest(_bus.ClientNode, file, hashes);

        // The sender node pushes two chunks, then its connection to the recipient breaks.
        await PushThenBreakAsync(peer, _bus.ProviderNode, file, manifest, hashes, content, 2);

        Assert.That(_bus.ProviderNode.Files.Database.GetReceived(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "resume-1"), Is.Null, "a part is not a file");

        // The file is then sent for real: the delivery starts where the recipient's verified bytes end.
        var metadata = Metadata("resume-1", content, dossier: "dossier-x", name: "scan.pdf");
        await SendAsync(_sender, metadata, content);
        var state = await SettledAsync(_sender, "resume-1");

        Assert.That(state.State, Is.EqualTo(DeliveryState.Delivered), state.Reason);
        Assert.That(state.ResumedFrom, Is.EqualTo(2 * ChunkBytes));
        var (_, bytes) = await ReceiveOneAsync("resume-1");
        Assert.That(bytes, Is.EqualTo(content));
        Assert.That(File.Exists(_bus.ProviderNode.Files.Store.PartPath(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "resume-1", file.Sha256)), Is.False);
    }

    [Test]
    public async Task PartDamagedBetweenAttempts_CutBackToTheLastGoodChunk_AndResumedFromThere()
    {
        var content = RandomContent((5 * ChunkBytes) + 321);
        var file = Describe("resume-damaged", content);
        var hashes = ChunkHashes(content);
        var peer = SenderPeerChannel(_bus);
        var manifest = Manifest(_bus.ClientNode, file, hashes);
        await PushThenBreakAsync(peer, _bus.ProviderNode, file, manifest, hashes, content, 3);

        // What a power cut can leave: the part's length kept, its tail (chunk 2) not what was written.
        var partPath = _bus.ProviderNode.Files.Store.PartPath(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "resume-damaged", file.Sha256);
        using (var part = new FileStream(partPath, FileMode.Open, FileAccess.ReadWrite))
        {
            part.Position = (2 * ChunkBytes) + 4096;
            part.Write(new byte[8192]);
        }

        // The held chunks are checked one by one on resume: the first push from chunk 3 is
        // refused (transient), the part cut back to two chunks, and the retry resumes there.
        await SendAsync(_sender, Metadata("resume-damaged", content, dossier: "dossier-x", name: "scan.pdf"), content);
        var state = await SettledAsync(_sender, "resume-damaged");

        Assert.That(state.State, Is.EqualTo(DeliveryState.Delivered), state.Reason);
        Assert.That(state.ResumedFrom, Is.EqualTo(2 * ChunkBytes));
        var (_, bytes) = await ReceiveOneAsync("resume-damaged");
        Assert.That(bytes, Is.EqualTo(content));
        string[] States() => [.. _bus.ClientNode.Log.FindByMessageId("resume-damaged").Where(e => e.Record.Direction == MessageDirection.FileState).Select(e => e.Record.Status)];
        await WaitUntilAsync(() => Task.FromResult(States().Length >= 3));
        Assert.That(States(), Is.EqualTo(new[] { "sending", FileErrors.PartDamaged, "delivered" }));
        Assert.That(File.Exists(partPath), Is.False);
    }

    [Test]
    public async Task ReceiptServedAgain_IsTheSameSignedReceipt_WithTheRecipientNodesCurrentOcspResponse()
    {
        // OCSP responses fetched every second, so the node's own one changes while the test waits.
        await using var bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { OcspRefreshIntervalSeconds = 1, OcspFreshnessSeconds = 60 });
        var content = RandomContent(1000);
        var file = Describe("receipt-again", content);
        var hashes = ChunkHashes(content);
        var peer = SenderPeerChannel(bus);
        var manifest = Manifest(bus.ClientNode, file, hashes);
        var first = await PushAsync(peer, manifest, hashes, Chunks(content));

        // Later, a sender that missed the receipt asks again: the delivery is not repeated, the
        // receipt is the one signed at delivery, and its OCSP response is the recipient node's
        // current one (checked for freshness now), not the one from delivery time.
        await WaitUntilAsync(() => Task.FromResult(!bus.ProviderNode.OwnStatus.Current().AsSpan().SequenceEqual(first.SignerOcspResponse.Span)));
        var offered = await new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = manifest }).ResponseAsync;
        var pushedAgain = await PushAsync(peer, manifest, hashes, Chunks(content));

        foreach (var again in new[] { offered.Receipt, pushedAgain })
        {
            Assert.That(again.Header, Is.EqualTo(first.Header));
            Assert.That(again.Signature, Is.EqualTo(first.Signature));
            Assert.That(again.SignerOcspResponse, Is.Not.EqualTo(first.SignerOcspResponse));
        }

        Assert.That(offered.Complete, Is.True);
    }

    [Test]
    public async Task ChunkWithOtherBytes_RefusedAndNothingKept()
    {
        var content = RandomContent((2 * ChunkBytes) + 10);
        var file = Describe("bad-chunk", content);
        var hashes = ChunkHashes(content);
        var chunks = Chunks(content).ToList();
        chunks[1][500] ^= 0x01;

        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, hashes), hashes, chunks), FileErrors.ChunkMismatch);
        AssertNothingKept(_bus.ProviderNode, file);
    }

    [Test]
    public async Task ManifestSignedBySomeoneElse_Refused()
    {
        var content = RandomContent(50_000);
        var file = Describe("bad-signer", content);
        var hashes = ChunkHashes(content);

        // Signed with the provider's member key, though it names the client's subsystem as sender.
        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ProviderNode, file, hashes), hashes, Chunks(content)), NodeErrors.SignerNotClient);
        AssertNothingKept(_bus.ProviderNode, file);
    }

    [Test]
    public async Task ManifestWhoseSizeLies_Refused()
    {
        var content = RandomContent(ChunkBytes + 100);
        var file = Describe("bad-size", content) with { Size = content.Length + 1 };
        var hashes = ChunkHashes(content);

        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, hashes), hashes, Chunks(content)), FileErrors.SizeMismatch);
        AssertNothingKept(_bus.ProviderNode, file);
    }

    [Test]
    public async Task ManifestWhoseHashLies_Refused()
    {
        var content = RandomContent(ChunkBytes + 100);
        var file = Describe("bad-hash", content) with { Sha256 = SHA256.HashData(RandomContent(16)) };
        var hashes = ChunkHashes(content);

        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, hashes), hashes, Chunks(content)), FileErrors.HashMismatch);
        AssertNothingKept(_bus.ProviderNode, file);
        Assert.That(_bus.ProviderNode.Files.Store.Has(SHA256.HashData(content)), Is.False);
    }

    [Test]
    public async Task ChunkListNotTheSignedOne_Refused()
    {
        var content = RandomContent(ChunkBytes + 100);
        var file = Describe("bad-list", content);
        var hashes = ChunkHashes(content);
        var other = (byte[])hashes.Clone();
        other[0] ^= 0x01;

        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, hashes), other, Chunks(content)), FileErrors.ChunkListMismatch);
        AssertNothingKept(_bus.ProviderNode, file);
    }

    [TestCase("../passwd")]
    [TestCase("dossier/scan.pdf")]
    [TestCase("dossier\\scan.pdf")]
    [TestCase("..")]
    public async Task FileNameWithPathOrDotDot_RefusedBySenderNodeAndByRecipientNode(string name)
    {
        var content = RandomContent(1000);
        await AssertRefused(() => SendAsync(_sender, Metadata("bad-name-s", content, name: name), content), FileErrors.UnsafeFileName);

        var file = Describe("bad-name-r", content, name);
        var hashes = ChunkHashes(content);
        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, hashes), hashes, Chunks(content)), FileErrors.UnsafeFileName);
        AssertNothingKept(_bus.ProviderNode, file);
        Assert.That(_bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "bad-name-s"), Is.Null);
    }

    [Test]
    public async Task RecipientsTooLongToLogInOneField_RefusedBeforeAnythingIsKept()
    {
        // The acceptance's log record names every recipient in one field of at most 4 KiB: twenty
        // well-formed ids of 260 characters are more. Refused up front, rather than an acceptance committed
        // whose record the log refuses.
        var content = RandomContent(1000);
        var metadata = Metadata("long-recipients", content);
        metadata.Recipients.Clear();
        metadata.Recipients.AddRange(Enumerable.Range(0, 20).Select(i => $"VN/GOV/000.00.00.H01/{new string('r', 240)}{i}"));

        await AssertRefused(() => SendAsync(_sender, metadata, content), FileErrors.BadMetadata);
        Assert.That(_bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "long-recipients"), Is.Null);
    }

    // `xbus files receive` names a folder after the id: "." or ".." would write outside --out.
    [TestCase("..")]
    [TestCase(".")]
    [TestCase(".bashrc")]
    public async Task FileIdThatIsNotAPlainFolderName_RefusedBySenderNodeAndByRecipientNode(string id)
    {
        var content = RandomContent(1000);
        await AssertRefused(() => SendAsync(_sender, Metadata(id, content), content), FileErrors.BadMetadata);

        var file = Describe(id, content, "scan.pdf");
        var hashes = ChunkHashes(content);
        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, hashes), hashes, Chunks(content)), FileErrors.InvalidManifest);
        AssertNothingKept(_bus.ProviderNode, file);
        Assert.That(_bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, id), Is.Null);
    }

    [Test]
    public async Task RecipientNotRegistered_Refused()
    {
        var content = RandomContent(1000);
        await AssertRefused(() => SendAsync(_sender, Metadata("no-recipient", content, recipient: BusFixture.Provider + "/nosuch"), content), FileErrors.UnknownRecipient);
        Assert.That(_bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "no-recipient"), Is.Null);
    }

    [Test]
    public async Task FileOverTheLimit_RefusedBySenderNodeAndByRecipientNode()
    {
        var limit = _bus.ClientNode.Files.Options.MaxFileBytes;
        var content = RandomContent(1000);
        var metadata = Metadata("too-large-s", content);
        metadata.Size = (ulong)limit + 1;
        await AssertRefused(() => SendAsync(_sender, metadata, []), FileErrors.TooLarge);

        var file = Describe("too-large-r", content) with { Size = _bus.ProviderNode.Files.Options.MaxFileBytes + 1 };
        await AssertRefused(() => PushAsync(SenderPeerChannel(_bus), Manifest(_bus.ClientNode, file, []), [], []), FileErrors.TooLarge);
        AssertNothingKept(_bus.ProviderNode, file);
    }

    [Test]
    public async Task ContentThatDoesNotMatchItsMetadata_RefusedAndNotStored()
    {
        var content = RandomContent(100_000);
        var longer = Metadata("lies-size", content);
        longer.Size -= 1;
        await AssertRefused(() => SendAsync(_sender, longer, content), FileErrors.SizeMismatch);

        var otherHash = Metadata("lies-hash", content);
        otherHash.Sha256 = ByteString.CopyFrom(SHA256.HashData(RandomContent(8)));
        await AssertRefused(() => SendAsync(_sender, otherHash, content), FileErrors.HashMismatch);

        Assert.That(_bus.ClientNode.Files.Store.Has(SHA256.HashData(content)), Is.False);
        Assert.That(Directory.GetFiles(_bus.ClientNode.Files.Store.Temp), Is.Empty);
        Assert.That(_bus.ClientNode.Files.Database.GetSent(BusFixture.ClientSubsystem, "lies-size"), Is.Null);
    }

    [Test]
    public async Task NewerDossierVersion_SupersedesTheOlderOne_HistoryStaysListed()
    {
        var v1 = RandomContent(10_000);
        var v2 = RandomContent(10_000);
        await SendAsync(_sender, Metadata("dossier-7-v1", v1, dossier: "dossier-7", version: 1), v1);
        await SendAsync(_sender, Metadata("dossier-7-v2", v2, dossier: "dossier-7", version: 2), v2);
        Assert.That((await SettledAsync(_sender, "dossier-7-v1")).State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That((await SettledAsync(_sender, "dossier-7-v2")).State, Is.EqualTo(DeliveryState.Delivered));

        var pending = await PendingIdsAsync();
        Assert.That(pending, Does.Contain("dossier-7-v2"));
        Assert.That(pending, Does.Not.Contain("dossier-7-v1"));
        var history = await new FilesClient(_recipient).ListAsync(new ListRequest { Client = BusFixture.ProviderSubsystem, DossierId = "dossier-7" }).ResponseAsync;
        Assert.That(history.Files.Select(f => (f.Metadata.DossierVersion, f.State)), Is.EqualTo(new[] { (1u, DeliveryState.Superseded), (2u, DeliveryState.Delivered) }));
        var sent = await new FilesClient(_sender).ListAsync(new ListRequest { Client = BusFixture.ClientSubsystem, DossierId = "dossier-7" }).ResponseAsync;
        Assert.That(sent.Files.Select(f => f.Direction), Is.EqualTo(new[] { "sent", "sent" }));
    }

    [Test]
    public async Task CallerNotRegisteredOnTheNode_Refused()
    {
        var content = RandomContent(100);
        var metadata = Metadata("not-mine", content);
        metadata.Sender = BusFixture.ProviderSubsystem;
        await AssertRefused(() => SendAsync(_sender, metadata, content), NodeErrors.UnregisteredClient);
    }

    private async Task<(ReceivedFile File, byte[] Content)> ReceiveOneAsync(string fileId)
    {
        using var call = new FilesClient(_recipient).Receive(new ReceiveRequest { Recipient = BusFixture.ProviderSubsystem, IncludeContent = true });
        ReceivedFile? found = null;
        var content = new MemoryStream();
        var current = string.Empty;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var part = call.ResponseStream.Current;
            if (part.PartCase == ReceiveResponse.PartOneofCase.File)
            {
                current = part.File.Metadata.FileId;
                if (current == fileId)
                {
                    found = part.File;
                }
            }
            else if (current == fileId)
            {
                part.Chunk.WriteTo(content);
            }
        }

        Assert.That(found, Is.Not.Null, $"{fileId} is pending for the recipient");
        return (found!, content.ToArray());
    }

    private async Task<List<string>> PendingIdsAsync()
    {
        using var call = new FilesClient(_recipient).Receive(new ReceiveRequest { Recipient = BusFixture.ProviderSubsystem });
        var ids = new List<string>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            ids.Add(call.ResponseStream.Current.File.Metadata.FileId);
        }

        return ids;
    }

    private static byte[] EnvelopeDigestOf(SignedEnvelope document, byte[] fileSha256) =>
        Core.Signing.EnvelopeDigest.FromHashes(SHA256.HashData(document.Header.Span), fileSha256);

}

/// <summary>A recipient whose access list does not name the sender: the delivery fails with the recipient's code.</summary>
[NonParallelizable]
public sealed class FileSyncAccessTests
{
    [Test]
    public async Task RecipientDoesNotAllowTheSender_DeliveryFailsWithAccessDenied()
    {
        await using var bus = await BusFixture.StartAsync(allow: false);
        using var local = bus.LocalChannel();
        var content = RandomContent(5000);
        var file = Describe("denied-1", content);

        var accepted = await SendAsync(local, Metadata("denied-1", content), content);
        var state = await SettledAsync(local, "denied-1");

        Assert.That(accepted.Created, Is.True);
        Assert.That(state.State, Is.EqualTo(DeliveryState.Failed));
        Assert.That(state.Reason, Is.EqualTo(NodeErrors.AccessDenied));
        Assert.That(state.Attempts, Is.EqualTo(1), "a refusal is final, not retried");
        AssertNothingKept(bus.ProviderNode, file with { FileId = "denied-1" });
        // Its record reaches the message log just after the state commits (file-sync.md, "Log outbox").
        await WaitUntilAsync(() => Task.FromResult(bus.ClientNode.Log.FindByMessageId("denied-1").Any(e => e.Record.Direction == MessageDirection.FileState && e.Record.Status == NodeErrors.AccessDenied)));
    }
}

/// <summary>Retries with back-off up to the configured limit, against a recipient node that is down.</summary>
[NonParallelizable]
public sealed class FileSyncRetryTests
{
    [Test]
    public async Task RecipientNodeDown_RetriedUpToTheLimit_ThenFailedWithAttemptsExhausted()
    {
        var options = new FileSyncOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(200), MaxAttempts = 3 };
        await using var bus = await BusFixture.StartAsync(files: options);
        await bus.StopProviderNodeAsync(0);
        using var local = bus.LocalChannel();
        var content = RandomContent(5000);

        await SendAsync(local, Metadata("unreachable-1", content), content);
        var state = await SettledAsync(local, "unreachable-1");

        Assert.That(state.State, Is.EqualTo(DeliveryState.Failed));
        Assert.That(state.Reason, Is.EqualTo(FileErrors.AttemptsExhausted));
        Assert.That(state.Attempts, Is.EqualTo(3));
        // The state is readable once files.db commits; its records reach the message log just
        // after (file-sync.md, "Log outbox"), so wait for the last one, then check them all.
        string[] States() => [.. bus.ClientNode.Log.FindByMessageId("unreachable-1").Where(e => e.Record.Direction == MessageDirection.FileState).Select(e => e.Record.Status)];
        await WaitUntilAsync(() => Task.FromResult(States().Contains(FileErrors.AttemptsExhausted)));
        Assert.That(States(), Is.EqualTo(new[] { "sending", FileErrors.RecipientUnreachable, FileErrors.RecipientUnreachable, FileErrors.AttemptsExhausted }));
    }
}
