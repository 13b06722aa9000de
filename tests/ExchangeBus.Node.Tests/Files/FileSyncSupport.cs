// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Signing;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Tests.Exchange;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>Sending through a node's local API, waiting for a state, and acting as a sender node over real mTLS.</summary>
internal static class FileSyncSupport
{
    public const int ChunkBytes = 1024 * 1024;

    public static byte[] RandomContent(int length) => RandomNumberGenerator.GetBytes(length);

    public static FileMetadata Metadata(string fileId, byte[] content, string recipient = BusFixture.ProviderSubsystem, string name = "application.pdf", string dossier = "dossier-1", uint version = 1) => new()
    {
        FileId = fileId,
        Sender = BusFixture.ClientSubsystem,
        DossierId = dossier,
        DossierVersion = version,
        SubjectId = "citizen-001",
        ContentType = "application/pdf",
        FileName = name,
        Size = (ulong)content.Length,
        Sha256 = ByteString.CopyFrom(SHA256.HashData(content)),
        Recipients = { recipient },
    };

    /// <summary>Streams metadata then the content in pieces that deliberately do not line up with the node's chunks.</summary>
    public static async Task<SendResponse> SendAsync(GrpcChannel local, FileMetadata metadata, byte[] content, int piece = 300_000)
    {
        using var call = new FilesClient(local).Send();
        await call.WriteOrAnswerAsync(new SendRequest { Metadata = metadata });
        for (var at = 0; at < content.Length; at += piece)
        {
            await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(content, at, Math.Min(piece, content.Length - at)) });
        }

        await call.CompleteOrAnswerAsync();
        return await call.ResponseAsync;
    }

    /// <summary>Polls the sender's status until the recipient's delivery settles (a guard against hanging, not a timing check).</summary>
    public static async Task<RecipientState> SettledAsync(GrpcChannel local, string fileId, string client = BusFixture.ClientSubsystem, TimeSpan? patience = null)
    {
        var until = DateTimeOffset.UtcNow + (patience ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = await new FilesClient(local).StatusAsync(new StatusRequest { Client = client, FileId = fileId }).ResponseAsync;
            var state = status.Recipients.Single();
            if (state.State is DeliveryState.Delivered or DeliveryState.Acknowledged or DeliveryState.Failed || DateTimeOffset.UtcNow > until)
            {
                return state;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Verifies a file document's signature over its header and the file's hash with the signer's certificate.</summary>
    public static MessageHeader VerifyDocument(SignedEnvelope document, byte[] fileSha256, NodeServer signer)
    {
        Assert.That(document.SignerCertificate.ToByteArray(), Is.EqualTo(signer.Keys.SigningCertificateDer));
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(document.SignerCertificate.Span);
        var toBeSigned = EnvelopeDigest.FromHashes(SHA256.HashData(document.Header.Span), fileSha256);
        Assert.That(EnvelopeVerifier.VerifyDigest(toBeSigned, document.Signature.Span, certificate), Is.True, "signature over the header and the file's hash");
        return MessageHeader.Parser.ParseFrom(document.Header);
    }

    /// <summary>The client node's own mTLS channel to the provider's node: a test acting as the sender node.</summary>
    public static GrpcChannel SenderPeerChannel(BusFixture bus)
    {
        var view = bus.ClientNode.Configuration.Current(NodeErrors.OutdatedGlobalConf);
        return bus.ClientNode.Peers.For(view.NodesOf(MemberId.Parse(BusFixture.Provider))[0], view);
    }

    /// <summary>A manifest signed by <paramref name="signer"/>'s member key, saying what <paramref name="file"/> says (true or not).</summary>
    public static SignedEnvelope Manifest(NodeServer signer, FileDescription file, byte[] chunkHashes, string recipient = BusFixture.ProviderSubsystem) =>
        signer.Services.GetRequiredService<FileSigner>().ManifestAsync(file, SubsystemId.Parse(recipient), chunkHashes, CancellationToken.None).GetAwaiter().GetResult().Envelope;

    public static FileDescription Describe(string fileId, byte[] content, string name = "scan.pdf") => new(
        fileId, SubsystemId.Parse(BusFixture.ClientSubsystem), "dossier-x", 1, "citizen-002", "application/pdf", name, content.Length, SHA256.HashData(content), ChunkBytes);

    public static byte[] ChunkHashes(byte[] content)
    {
        var hashes = new MemoryStream();
        for (var at = 0; at < content.Length; at += ChunkBytes)
        {
            hashes.Write(SHA256.HashData(content.AsSpan(at, Math.Min(ChunkBytes, content.Length - at))));
        }

        return hashes.ToArray();
    }

    /// <summary>Pushes as the sender node would: the start, then the chunks given.</summary>
    public static async Task<SignedEnvelope> PushAsync(GrpcChannel peer, SignedEnvelope manifest, byte[] chunkHashes, IEnumerable<byte[]> chunks, ulong offset = 0)
    {
        using var call = new FileTransfer.FileTransferClient(peer).Push();
        await call.WriteOrAnswerAsync(new PushRequest { Start = new PushStart { Manifest = manifest, ChunkHashes = ByteString.CopyFrom(chunkHashes), Offset = offset } });
        foreach (var chunk in chunks)
        {
            await call.WriteOrAnswerAsync(new PushRequest { Chunk = ByteString.CopyFrom(chunk) });
        }

        await call.CompleteOrAnswerAsync();
        return await call.ResponseAsync;
    }

    /// <summary>
    /// Pushes the first <paramref name="count"/> chunks, waits until the recipient holds them
    /// (its offer says so), then breaks the connection as a crashing sender would, and waits
    /// until <paramref name="recipientNode"/> has let go of the push.
    /// </summary>
    public static async Task PushThenBreakAsync(GrpcChannel peer, NodeServer recipientNode, FileDescription file, SignedEnvelope manifest, byte[] chunkHashes, byte[] content, int count, string recipient = BusFixture.ProviderSubsystem)
    {
        using var cancel = new CancellationTokenSource();
        using var call = new FileTransfer.FileTransferClient(peer).Push(new CallOptions(cancellationToken: cancel.Token));
        await call.WriteOrAnswerAsync(new PushRequest { Start = new PushStart { Manifest = manifest, ChunkHashes = ByteString.CopyFrom(chunkHashes) } });
        foreach (var chunk in Chunks(content).Take(count))
        {
            await call.WriteOrAnswerAsync(new PushRequest { Chunk = ByteString.CopyFrom(chunk) });
        }

        await WaitUntilAsync(async () => (await new FileTransfer.FileTransferClient(peer).OfferAsync(new OfferRequest { Manifest = manifest }).ResponseAsync).Offset == (ulong)count * ChunkBytes);
        await cancel.CancelAsync();
        var partPath = recipientNode.Files.Store.PartPath(recipient, file.Sender.ToString(), file.FileId, file.Sha256);
        await WaitUntilAsync(() => Task.FromResult(!recipientNode.Services.GetRequiredService<FileReceiver>().InUse(partPath)));
    }

    /// <summary>Polls until <paramref name="condition"/> holds; the 60 s limit guards against hanging, it is not a timing check.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.That(DateTimeOffset.UtcNow, Is.LessThan(until), "condition not reached");
            await Task.Delay(50);
        }
    }

    public static async Task AssertRefused(Func<Task> call, string code)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call());
        Assert.That(ex!.ErrorCode, Is.EqualTo(code), ex.Status.Detail);
    }

    public static IEnumerable<byte[]> Chunks(byte[] content, int from = 0)
    {
        for (var at = from * ChunkBytes; at < content.Length; at += ChunkBytes)
        {
            yield return content.AsSpan(at, Math.Min(ChunkBytes, content.Length - at)).ToArray();
        }
    }

    /// <summary>Nothing of a refused file is visible on the recipient: no inbox row, no object, no part.</summary>
    public static void AssertNothingKept(NodeServer recipient, FileDescription file, string recipientSubsystem = BusFixture.ProviderSubsystem)
    {
        var files = recipient.Files;
        Assert.That(files.Database.GetReceived(recipientSubsystem, BusFixture.ClientSubsystem, file.FileId), Is.Null, "inbox row");
        Assert.That(files.Store.Has(file.Sha256), Is.False, "object");
        Assert.That(File.Exists(files.Store.PartPath(recipientSubsystem, BusFixture.ClientSubsystem, file.FileId, file.Sha256)), Is.False, "part file");
    }
}
