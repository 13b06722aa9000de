// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Google.Protobuf;

namespace ExchangeBus.Node.Files;

/// <summary>
/// The recipient's side of file sync, on the inter-node listener. Every check runs before a
/// byte is kept: the TLS peer is a node the configuration lists; the manifest is signed by the
/// sender's member (chain, OCSP, signature over the header and the file hash it states); the
/// sender's member owns the peer node; the recipient is a subsystem of this node's member; the
/// access list allows the sender the recipient's <c>receiveFiles</c> service; name and size pass.
/// Then each chunk must hash to its entry in the chunk list the manifest signs, and the whole
/// file to the manifest's SHA-256, before it leaves <c>incoming/</c>.
/// </summary>
public sealed partial class FileReceiver(NodeContext node, FileSync files, ILogger<FileReceiver> logger)
{
    private readonly ConcurrentDictionary<string, byte> _pushing = new(StringComparer.Ordinal);

    /// <summary>A manifest that passed every check.</summary>
    private sealed record CheckedManifest(MessageHeader Header, byte[] ToBeSigned, FileDescription File, SubsystemId Recipient, byte[] ChunkListHash, NodeId Peer);

    public GrpcServiceDefinition Definition() => GrpcServiceDefinition.CreateBuilder()
        .AddMethod(FileMethods.Offer, (request, context) => Guarded(context, () => Task.FromResult(Offer(request, context))))
        .AddMethod(FileMethods.Push, (requests, context) => Guarded(context, () => PushAsync(requests, context)))
        .Build();

    private Task<T> Guarded<T>(ServerCallContext context, Func<Task<T>> call) =>
        FileCalls.GuardedAsync(context, call, (code, correlationId) => Log.Refused(logger, code, correlationId));

    /// <summary>
    /// A receipt signed at delivery, served again to a sender that missed it (hours later,
    /// perhaps). The OCSP response travels beside the signature, not under it, so the node's
    /// current one replaces the one from delivery time: the sender checks its freshness now,
    /// and a stale one would fail a delivery that succeeded. Kept as it was if the node's
    /// signing certificate has changed since (the current response is not about that signer).
    /// </summary>
    private SignedEnvelope StoredReceipt(byte[] stored)
    {
        var receipt = SignedEnvelope.Parser.ParseFrom(stored);
        if (receipt.SignerCertificate.Span.SequenceEqual(node.Keys.SigningCertificateDer))
        {
            receipt.SignerOcspResponse = ByteString.CopyFrom(node.OwnStatus.Current());
        }

        return receipt;
    }

    private OfferResponse Offer(OfferRequest request, ServerCallContext context)
    {
        var manifest = Check(request.Manifest, context);
        var file = manifest.File;
        if (files.Database.GetReceived(manifest.Recipient.ToString(), file.Sender.ToString(), file.FileId) is { } received)
        {
            return SameContent(received, file)
                ? new OfferResponse { Offset = (ulong)file.Size, Complete = true, Receipt = StoredReceipt(received.Receipt), Acknowledged = received.State == DeliveryState.Acknowledged }
                : throw Conflict(file);
        }

        var part = new FileInfo(files.Store.PartPath(file.Sender.ToString(), file.FileId, file.Sha256));
        var held = part.Exists ? Math.Min(part.Length, file.Size) : 0;
        return new OfferResponse { Offset = (ulong)(held / file.ChunkBytes * file.ChunkBytes) };
    }

    private async Task<SignedEnvelope> PushAsync(IAsyncStreamReader<PushRequest> requests, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.PartCase != PushRequest.PartOneofCase.Start)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.InvalidManifest, "A push starts with the manifest.");
        }

        var start = requests.Current.Start;
        var manifest = Check(start.Manifest, context);
        var correlationId = context.HttpContext.TraceIdentifier;
        try
        {
            return await ReceiveAsync(requests, start, manifest, correlationId, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeException ex)
        {
            // The manifest was authentic: what became of it is evidence, like a refused request.
            await node.Log.AppendAsync(FileRecords.Refused(manifest.Header, manifest.File.Sha256, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<SignedEnvelope> ReceiveAsync(IAsyncStreamReader<PushRequest> requests, PushStart start, CheckedManifest manifest, string correlationId, CancellationToken cancellationToken)
    {
        var file = manifest.File;
        var chunkHashes = start.ChunkHashes.Memory;
        if (chunkHashes.Length != (long)file.ChunkCount * SHA256.HashSizeInBytes
            || !CryptographicOperations.FixedTimeEquals(FileDocuments.ChunkListHash(chunkHashes.Span), manifest.ChunkListHash))
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.ChunkListMismatch, "The chunk list does not match the manifest (length or signed hash).");
        }

        var recipient = manifest.Recipient.ToString();
        var sender = file.Sender.ToString();
        if (files.Database.GetReceived(recipient, sender, file.FileId) is { } received)
        {
            // Delivered before (the sender missed the receipt): the same receipt, nothing stored again.
            return SameContent(received, file) ? StoredReceipt(received.Receipt) : throw Conflict(file);
        }

        var partPath = files.Store.PartPath(sender, file.FileId, file.Sha256);
        if (!_pushing.TryAdd(partPath, 0))
        {
            throw new NodeException(StatusCode.Aborted, FileErrors.TransferInProgress, "This file is being pushed already.");
        }

        try
        {
            await ReceiveChunksAsync(requests, start.Offset, file, chunkHashes, partPath, cancellationToken).ConfigureAwait(false);
            files.Store.Commit(partPath, file.Sha256);
            var (receiptHeader, receipt) = FileDocuments.Receipt(node, manifest.Header, manifest.ToBeSigned, file);
            var now = node.TimeProvider.GetUtcNow();
            var state = await files.Database.InsertReceivedAsync(new InboxEntry(
                recipient, file, manifest.Peer.ToString(), start.Manifest.ToByteArray(), receipt.ToByteArray(), DeliveryState.Delivered, now, now)).ConfigureAwait(false);
            files.Arrived();
            await Task.WhenAll(
                node.Log.AppendAsync(FileRecords.Signed(MessageDirection.FileManifestReceived, manifest.Header, start.Manifest, file.Sha256, correlationId), CancellationToken.None).AsTask(),
                node.Log.AppendAsync(FileRecords.Signed(MessageDirection.FileReceiptSent, receiptHeader, receipt, file.Sha256, correlationId), CancellationToken.None).AsTask(),
                node.Log.AppendAsync(FileRecords.State(file, manifest.Header.Service, DeliveryStates.Name(state), correlationId), CancellationToken.None).AsTask()).ConfigureAwait(false);
            Log.Received(logger, start.Offset > 0, correlationId);
            return receipt;
        }
        finally
        {
            _pushing.TryRemove(partPath, out _);
        }
    }

    /// <summary>
    /// Appends verified chunks to the part file from the offset the sender starts at. Bytes that
    /// fail a check are refused and the part is deleted (that sender's data is not to be trusted);
    /// a broken connection leaves the verified part for the next push to resume.
    /// </summary>
    private async Task ReceiveChunksAsync(IAsyncStreamReader<PushRequest> requests, ulong startOffset, FileDescription file, ReadOnlyMemory<byte> chunkHashes, string partPath, CancellationToken cancellationToken)
    {
        var deletePart = false;
        try
        {
            await using var part = FileStore.OpenWrite(partPath, FileMode.OpenOrCreate);
            if (startOffset > (ulong)part.Length || startOffset % (ulong)file.ChunkBytes != 0 || startOffset > (ulong)file.Size)
            {
                throw new NodeException(StatusCode.FailedPrecondition, FileErrors.OffsetMismatch, $"This node holds {part.Length / file.ChunkBytes * file.ChunkBytes} verified bytes; a push cannot start at {startOffset}.");
            }

            var position = (long)startOffset;
            part.SetLength(position);
            part.Position = position;
            using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await HashPrefixAsync(part, position, whole, cancellationToken).ConfigureAwait(false);
            var index = (int)(position / file.ChunkBytes);
            try
            {
                while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    if (requests.Current.PartCase != PushRequest.PartOneofCase.Chunk)
                    {
                        deletePart = true;
                        throw new NodeException(StatusCode.InvalidArgument, FileErrors.InvalidManifest, "Only the first message of a push is the manifest.");
                    }

                    var data = requests.Current.Chunk.Memory;
                    if (index >= file.ChunkCount || data.Length != file.ChunkLength(index))
                    {
                        deletePart = true;
                        throw new NodeException(StatusCode.InvalidArgument, FileErrors.SizeMismatch, "A chunk goes past the size the manifest states, or is not a whole chunk.");
                    }

                    if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(data.Span), chunkHashes.Span.Slice(index * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes)))
                    {
                        deletePart = true;
                        throw new NodeException(StatusCode.InvalidArgument, FileErrors.ChunkMismatch, $"Chunk {index} does not hash to its entry in the signed chunk list.");
                    }

                    await part.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                    whole.AppendData(data.Span);
                    position += data.Length;
                    index++;
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or RpcException && !deletePart)
            {
                // The sender went away mid-push: keep what verified, on disk, for its next attempt.
                part.Flush(flushToDisk: true);
                throw;
            }

            if (position != file.Size)
            {
                deletePart = true;
                throw new NodeException(StatusCode.InvalidArgument, FileErrors.SizeMismatch, $"The push ended at {position} bytes; the manifest states {file.Size}.");
            }

            if (!CryptographicOperations.FixedTimeEquals(whole.GetHashAndReset(), file.Sha256))
            {
                deletePart = true;
                throw new NodeException(StatusCode.InvalidArgument, FileErrors.HashMismatch, "The file does not hash to the SHA-256 the manifest states.");
            }

            part.Flush(flushToDisk: true);
        }
        catch (IOException ex) when (LocalFiles.DiskFull(ex))
        {
            throw new NodeException(StatusCode.ResourceExhausted, FileErrors.InsufficientStorage, "The recipient's disk is full.");
        }
        finally
        {
            if (deletePart)
            {
                FileStore.DeleteQuietly(partPath);
            }
        }
    }

    /// <summary>The whole-file hash must cover the bytes an earlier push left, read back from disk.</summary>
    private static async Task HashPrefixAsync(FileStream part, long length, IncrementalHash hash, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(1024 * 1024);
        try
        {
            await using var read = new FileStream(part.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var left = length;
            while (left > 0)
            {
                var n = await read.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException("The part file is shorter than it was.");
                }

                hash.AppendData(buffer, 0, n);
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private CheckedManifest Check(SignedEnvelope? envelope, ServerCallContext context)
    {
        if (envelope is null)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.InvalidManifest, "The manifest is missing.");
        }

        var view = node.Configuration.Current(NodeErrors.ProviderOutdatedGlobalConf);
        var peer = context.ClientCertificate is { } certificate ? view.FindNodeByAuthCertificate(certificate) : null;
        if (peer is null)
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.UnregisteredNode,
                "The TLS certificate is not the authentication certificate of any node in the global configuration.");
        }

        var verified = node.Verification.Verify(
            envelope, view, header => ClientId.TryParse(header.Client, out var c, out _) ? c!.Member : null,
            EnvelopeVerification.ProviderCodes, FileDocuments.SignedFileHash);
        var header = verified.Header;
        var file = FileDocuments.ReadManifest(header, files.Options.MaxFileBytes, out var chunkListHash);
        if (!string.Equals(header.SenderNode, peer.Id.ToString(), StringComparison.Ordinal) || file.Sender.Member != peer.Id.Owner)
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.SenderMismatch,
                $"The manifest names sender {header.Client} but came from node {peer.Id}, which belongs to another member.");
        }

        var recipient = Recipient(header, view);
        if (!AccessControl.IsAllowed(node.Settings.Current.AccessRules, FileDocuments.ReceiveService(recipient), ClientId.FromSubsystemId(file.Sender), view))
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.AccessDenied, $"{file.Sender} may not send files to {recipient}.");
        }

        return new CheckedManifest(header, verified.ToBeSigned, file, recipient, chunkListHash, peer.Id);
    }

    /// <summary>The manifest's service must be <c>receiveFiles</c> of a subsystem of this node's member.</summary>
    private SubsystemId Recipient(MessageHeader header, GlobalConfigurationView view)
    {
        if (!ServiceId.TryParse(header.Service, out var service, out _) || service!.ServiceCode != FileDocuments.ServiceCode || service.Version is not null)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.InvalidManifest, "The manifest's service is not a receiveFiles service.");
        }

        if (service.Subsystem.Member != node.Node.Owner || !view.SubsystemExists(service.Subsystem))
        {
            throw new NodeException(StatusCode.NotFound, FileErrors.UnknownRecipient, $"{service.Subsystem} does not receive files on this node.");
        }

        return service.Subsystem;
    }

    private static bool SameContent(InboxEntry received, FileDescription file) =>
        received.Description.Size == file.Size && CryptographicOperations.FixedTimeEquals(received.Description.Sha256, file.Sha256);

    private static NodeException Conflict(FileDescription file) =>
        new(StatusCode.AlreadyExists, FileErrors.FileIdConflict, $"File id {file.FileId} from {file.Sender} was received before with other content.");

    private static partial class Log
    {
        [LoggerMessage(4620, LogLevel.Information, "Received a file (resumed: {Resumed}) (correlation id {CorrelationId})")]
        public static partial void Received(ILogger logger, bool resumed, string correlationId);

        [LoggerMessage(4621, LogLevel.Information, "Refused a pushed file: {Code} (correlation id {CorrelationId})")]
        public static partial void Refused(ILogger logger, string code, string correlationId);
    }
}
