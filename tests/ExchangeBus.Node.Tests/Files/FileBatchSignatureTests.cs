// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Trust;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// Issue 19's batch signatures on the file documents: acceptances, manifests and receipts that
/// wait in a node's signer together share one root signature (each gathered here by holding the
/// signing loop until all of them wait, so the batch has a size the test can count on), the other
/// node and the log verifier accept them, and a batch-form signature moved to another document
/// or with a changed path is refused.
/// </summary>
[NonParallelizable]
public sealed class FileBatchSignatureTests
{
    private const int Files = 3;

    [Test]
    public async Task FilesSentTogether_AreSignedInBatches_DeliveredWithBatchReceipts_AndBothLogsVerify()
    {
        await using var bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        using var sender = bus.LocalChannel();
        var senderSigning = bus.ClientNode.Services.GetRequiredService<EnvelopeSigningQueue>();
        var recipientSigning = bus.ProviderNode.Services.GetRequiredService<EnvelopeSigningQueue>();

        var contents = Enumerable.Range(0, Files).Select(_ => RandomContent(10_000)).ToList();
        var accepting = senderSigning.Hold();
        var receipting = recipientSigning.Hold();
        var sends = contents.Select((content, i) => SendAsync(sender, Metadata($"batch-{i}", content), content)).ToList();

        // Each file's acceptance and its one manifest.
        await WaitUntilAsync(() => Task.FromResult(senderSigning.WaitingCount == 2 * Files));
        accepting.SetResult();
        var accepted = await Task.WhenAll(sends);
        await WaitUntilAsync(() => Task.FromResult(recipientSigning.WaitingCount == Files));
        receipting.SetResult();
        var states = await Task.WhenAll(Enumerable.Range(0, Files).Select(i => SettledAsync(sender, $"batch-{i}")));

        using (Assert.EnterMultipleScope())
        {
            for (var i = 0; i < Files; i++)
            {
                var sha = SHA256.HashData(contents[i]);
                Assert.That(states[i].State, Is.EqualTo(DeliveryState.Delivered), states[i].Reason);
                VerifyDocument(accepted[i].Acceptance, sha, bus.ClientNode);
                VerifyDocument(states[i].Receipt, sha, bus.ProviderNode);
            }

            AssertOneBatch(accepted.Select(a => a.Acceptance.Signature.ToByteArray()), 2 * Files, Files);
            AssertOneBatch(states.Select(s => s.Receipt.Signature.ToByteArray()), Files, Files);

            // The manifests as the recipient logged them: the sender's batch, its other half.
            var manifests = Enumerable.Range(0, Files)
                .Select(i => bus.ProviderNode.Log.FindByMessageId($"batch-{i}").Single(e => e.Record.Direction == MessageDirection.FileManifestReceived).Record.Signature)
                .ToList();
            AssertOneBatch(manifests, 2 * Files, Files);
        }

        // `xbus audit verify` on both nodes: every signature checked, in the batch form. Sender:
        // acceptance, manifest and receipt per file; recipient: manifest and receipt.
        foreach (var (node, signatures) in new[] { (bus.ClientNode, 3 * Files), (bus.ProviderNode, 2 * Files) })
        {
            await node.Stamper.StampAsync(CancellationToken.None);
            using var trust = LogVerifierTrust.Load(Path.GetDirectoryName(node.Log.Path)!, anchorPath: null);
            using var log = MessageLogReader.Open(node.Log.Path);
            var report = new LogVerifier(log, trust, new LogVerifierOptions()).Verify();
            Assert.That(report.IsValid, Is.True, report.Detail);
            Assert.That(report.SignaturesChecked, Is.EqualTo(signatures));
        }
    }

    [Test]
    public async Task BatchFormManifest_WithAChangedPathOrAnotherLeafsSignature_IsRefused_AndTheGenuineOneDelivered()
    {
        await using var bus = await BusFixture.StartAsync();
        var signing = bus.ClientNode.Services.GetRequiredService<EnvelopeSigningQueue>();
        var signer = bus.ClientNode.Services.GetRequiredService<FileSigner>();
        var contents = new[] { RandomContent(20_000), RandomContent(20_000) };
        var files = contents.Select((c, i) => Describe($"leaf-{i}", c)).ToArray();
        var hashes = contents.Select(ChunkHashes).ToArray();

        var hold = signing.Hold();
        var signed = files.Select((f, i) => signer.ManifestAsync(f, SubsystemId.Parse(BusFixture.ProviderSubsystem), hashes[i], CancellationToken.None)).ToList();
        await WaitUntilAsync(() => Task.FromResult(signing.WaitingCount == 2));
        hold.SetResult();
        var manifests = (await Task.WhenAll(signed)).Select(m => m.Envelope).ToArray();
        Assert.That(manifests.Select(m => BatchSignature.IsBatchForm(m.Signature.Span)), Is.All.True);

        var peer = SenderPeerChannel(bus);

        // A path hash changed: it no longer leads to the signed root.
        var changedPath = manifests[0].Clone();
        var bytes = changedPath.Signature.ToByteArray();
        bytes[42] ^= 0x01;
        changedPath.Signature = ByteString.CopyFrom(bytes);
        await AssertRefused(() => PushAsync(peer, changedPath, hashes[0], Chunks(contents[0])), NodeErrors.InvalidSignature);
        AssertNothingKept(bus.ProviderNode, files[0]);

        // The other leaf's signature, genuine in itself, on this manifest.
        var otherLeaf = manifests[0].Clone();
        otherLeaf.Signature = manifests[1].Signature;
        await AssertRefused(() => PushAsync(peer, otherLeaf, hashes[0], Chunks(contents[0])), NodeErrors.InvalidSignature);
        AssertNothingKept(bus.ProviderNode, files[0]);

        // The genuine manifest, in the batch form, is taken.
        var receipt = await PushAsync(peer, manifests[0], hashes[0], Chunks(contents[0]));
        VerifyDocument(receipt, files[0].Sha256, bus.ProviderNode);
    }

    [Test]
    public async Task BatchFormReceipt_WithAChangedPath_IsRefusedByTheSendersVerification()
    {
        await using var bus = await BusFixture.StartAsync();
        using var sender = bus.LocalChannel();
        var receipting = bus.ProviderNode.Services.GetRequiredService<EnvelopeSigningQueue>();
        var contents = new[] { RandomContent(5_000), RandomContent(5_000) };

        var hold = receipting.Hold();
        foreach (var (content, i) in contents.Select((c, i) => (c, i)))
        {
            await SendAsync(sender, Metadata($"receipt-{i}", content), content);
        }

        await WaitUntilAsync(() => Task.FromResult(receipting.WaitingCount == 2));
        hold.SetResult();
        var receipt = (await SettledAsync(sender, "receipt-0")).Receipt;
        Assert.That(BatchSignature.IsBatchForm(receipt.Signature.Span), Is.True);

        var verification = bus.ClientNode.Services.GetRequiredService<EnvelopeVerification>();
        var view = bus.ClientNode.Configuration.Current(NodeErrors.OutdatedGlobalConf);
        var recipient = MemberId.Parse(BusFixture.Provider);
        Assert.That(verification.Verify(receipt, view, _ => recipient, EnvelopeVerification.ClientCodes, FileDocuments.SignedFileHash).Header.Kind, Is.EqualTo(MessageKind.FileReceipt));

        var changed = receipt.Clone();
        var bytes = changed.Signature.ToByteArray();
        bytes[42] ^= 0x80;
        changed.Signature = ByteString.CopyFrom(bytes);
        var refused = Assert.Throws<NodeException>(() => verification.Verify(changed, view, _ => recipient, EnvelopeVerification.ClientCodes, FileDocuments.SignedFileHash));
        Assert.That(refused!.Code, Is.EqualTo(NodeErrors.InvalidResponse));
    }

    /// <summary>All of one tree of <paramref name="size"/> leaves with one root signature, <paramref name="count"/> of them here.</summary>
    private static void AssertOneBatch(IEnumerable<byte[]> signatures, int size, int count)
    {
        var list = signatures.ToList();
        Assert.That(list, Has.Count.EqualTo(count));
        Assert.That(list.Select(s => BatchSignature.TryDecode(s, out var parts).IsValid ? parts.TreeSize : -1), Is.All.EqualTo(size));
        Assert.That(list.Select(s => BatchSignature.TryDecode(s, out var parts).IsValid ? parts.LeafIndex : -1).Distinct().Count(), Is.EqualTo(count));
        Assert.That(list.Select(s => Convert.ToHexString(s.AsSpan(42 + (32 * s[9])))).Distinct().Count(), Is.EqualTo(1), "one root signature");
    }
}
