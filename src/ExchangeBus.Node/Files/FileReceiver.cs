// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Google.Protobuf;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;

namespace ExchangeBus.Node.Files;

/// <summary>
/// The recipient's side of file sync, on the inter-node listener. Every check runs before a
/// byte is kept: the TLS peer is a node the configuration lists; the manifest is signed by the
/// sender's member (chain, OCSP, signature over the header and the file hash it states); the
/// sender's member owns the peer node; the recipient is a subsystem of this node's member; the
/// access list allows the sender the recipient's <c>receiveFiles</c> service; name and size pass.
/// Then each chunk must hash to its entry in the chunk list the manifest signs, and the whole
/// file to the manifest's SHA-256, before it leaves <c>incoming/</c>. It also sweeps away part
/// files their senders gave up on.
/// </summary>
public sealed partial class FileReceiver(
    NodeId nodeId, NodeSettingsSource settingsSource, NodeKeys keys, GlobalConfigurationProvider configuration,
    OwnCertificateStatus ownStatus, EnvelopeVerification verification, SqliteMessageLog messageLog,
    TimeProvider time, FileSync files, FileSigner signer, ILogger<FileReceiver> logger) : Contracts.Files.V1.FileTransfer.FileTransferBase
{
    // Part files in use: by a push, an offer completing a delivery, or the stale-part sweep.
    private readonly ConcurrentDictionary<string, byte> _pushing = new(StringComparer.Ordinal);

    /// <summary>A manifest that passed every check.</summary>
    private sealed record CheckedManifest(MessageHeader Header, byte[] ToBeSigned, FileDescription File, SubsystemId Recipient, byte[] ChunkListHash, NodeId Peer);

    public override Task<OfferResponse> Offer(OfferRequest request, ServerCallContext context) =>
        Guarded(context, () => OfferAsync(request, context));

    public override Task<SignedEnvelope> Push(IAsyncStreamReader<PushRequest> requestStream, ServerCallContext context) =>
        Guarded(context, () => PushAsync(requestStream, context));

    /// <summary>
    /// Deletes part files their senders gave up on (or a crash left), content no file names, and
    /// content past its retention; run by <see cref="FileHousekeeping"/>. Claims each part as a
    /// push would, so a push and the sweep never hold the same part.
    /// </summary>
    internal void SweepStaleParts()
    {
        try
        {
            var staleBefore = time.GetUtcNow() - files.Options.StalePartAge;
            var deleted = files.Store.DeleteStaleParts(staleBefore, part => _pushing.TryAdd(part, 0), part => _pushing.TryRemove(part, out _));
            if (deleted > 0)
            {
                Log.StalePartsDeleted(logger, deleted);
            }

            // Content a crash left unrecorded is stale on the same terms as a part.
            var unnamed = files.RemoveUnnamedContent(staleBefore);
            if (unnamed > 0)
            {
                Log.UnnamedContentRemoved(logger, unnamed);
            }

            // The node's one housekeeping pass also applies content retention (sent and received files alike).
            var removed = files.RemoveFinishedContent(time.GetUtcNow());
            if (removed > 0)
            {
                Log.ContentRemoved(logger, removed);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Log.SweepFailed(logger, ex.GetType().Name);
        }
    }

    /// <summary>Whether a push (or offer, or sweep) is using this part file now.</summary>
    internal bool InUse(string partPath) => _pushing.ContainsKey(partPath);

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
        if (receipt.SignerCertificate.Span.SequenceEqual(keys.SigningCertificateDer))
        {
            receipt.SignerOcspResponse = ByteString.CopyFrom(ownStatus.Current());
        }

        return receipt;
    }

    private async Task<OfferResponse> OfferAsync(OfferRequest request, ServerCallContext context)
    {
        var manifest = Check(request.Manifest, context);
        var file = manifest.File;
        var recipient = manifest.Recipient.ToString();
        var sender = file.Sender.ToString();
        if (files.Database.GetReceived(recipient, sender, file.FileId) is { } received)
        {
            return Delivered(received, file);
        }

        // The content another recipient's file names stays while this offer may record it for this one.
        using var hold = files.Hold(file.Sha256);
        var partPath = files.Store.PartPath(recipient, sender, file.FileId, file.Sha256);
        if (ReceivedForAnotherRecipient(manifest) && _pushing.TryAdd(partPath, 0))
        {
            try
            {
                // Claimed as a push would be, and asked again: a push that finished meanwhile has its receipt.
                if (files.Database.GetReceived(recipient, sender, file.FileId) is { } meanwhile)
                {
                    return Delivered(meanwhile, file);
                }

                var receipt = await DeliverAsync(manifest, request.Manifest, resumed: false, context.CorrelationId).ConfigureAwait(false);
                FileStore.DeleteQuietly(partPath);
                return new OfferResponse { Offset = (ulong)file.Size, Complete = true, Receipt = receipt };
            }
            finally
            {
                _pushing.TryRemove(partPath, out _);
            }
        }

        var part = new FileInfo(partPath);
        var held = part.Exists ? Math.Min(part.Length, file.Size) : 0;
        var offset = held / file.ChunkBytes * file.ChunkBytes;
        EnsureRoom(file.Size - offset);
        return new OfferResponse { Offset = (ulong)offset };
    }

    private OfferResponse Delivered(InboxEntry received, FileDescription file) => SameContent(received, file)
        ? new OfferResponse { Offset = (ulong)file.Size, Complete = true, Receipt = StoredReceipt(received.Receipt), Acknowledged = received.State == DeliveryState.Acknowledged }
        : throw Conflict(file);

    /// <summary>
    /// Whether the same sender delivered this file id, with this content, to another subsystem of
    /// this node, and the content is in <c>objects/</c>: then it need not travel again. Only
    /// that case: completing an offer for any content the store holds would tell a sender (any
    /// agency the access list lets send) whether this node holds a document whose hash it knows,
    /// and hand it a receipt for bytes it never sent.
    /// </summary>
    private bool ReceivedForAnotherRecipient(CheckedManifest manifest)
    {
        var file = manifest.File;
        if (!files.Store.Has(file.Sha256))
        {
            return false;
        }

        var sender = file.Sender.ToString();
        foreach (var client in settingsSource.Current.Clients)
        {
            if (SubsystemId.TryParse(client.Subsystem, out var other, out _)
                && !string.Equals(other!.ToString(), manifest.Recipient.ToString(), StringComparison.Ordinal)
                && files.Database.GetReceived(other.ToString(), sender, file.FileId) is { } received
                && SameContent(received, file))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Refuses a file that would leave less than the configured reserve free on the store's
    /// filesystem. Checked when it is offered and when its push starts; pushes running at the same
    /// time can still fill the disk, which the writes then meet (see <see cref="ReceiveChunksAsync"/>).
    /// </summary>
    private void EnsureRoom(long needed)
    {
        if (!files.HasRoom(needed, out var available))
        {
            Log.NoRoom(logger, needed, available, files.Options.FreeSpaceReserveBytes);
            throw InsufficientStorage();
        }
    }

    private static NodeException InsufficientStorage() =>
        new(StatusCode.ResourceExhausted, FileErrors.InsufficientStorage, "The recipient's node has not enough free storage for this file now; try again later.");

    private async Task<SignedEnvelope> PushAsync(IAsyncStreamReader<PushRequest> requests, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.PartCase != PushRequest.PartOneofCase.Start)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.InvalidManifest, "A push starts with the manifest.");
        }

        var start = requests.Current.Start;
        var manifest = Check(start.Manifest, context);
        var correlationId = context.CorrelationId;
        try
        {
            return await ReceiveAsync(requests, start, manifest, correlationId, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeException ex)
        {
            // The manifest was authentic: what became of it is evidence, like a refused request.
            await messageLog.AppendAsync(FileRecords.Refused(manifest.Header, manifest.File.Sha256, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
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
        var partPath = files.Store.PartPath(recipient, sender, file.FileId, file.Sha256);
        if (!_pushing.TryAdd(partPath, 0))
        {
            throw new NodeException(StatusCode.Aborted, FileErrors.TransferInProgress, "This file is being pushed already.");
        }

        // From the part's move into objects/ until the inbox row commits: if it never does (a full
        // files.db), the content goes with the refusal.
        using var hold = files.Hold(file.Sha256);

        try
        {
            // Asked once the part is claimed, so an offer that completed the delivery meanwhile is seen.
            if (files.Database.GetReceived(recipient, sender, file.FileId) is { } received)
            {
                // Delivered before (the sender missed the receipt): the same receipt, nothing stored
                // again. What the sender streams anyway is read and dropped first: answering before
                // its writes end would fail them, and the sender would count the attempt as failed.
                if (!SameContent(received, file))
                {
                    throw Conflict(file);
                }

                for (var messages = 0; await requests.MoveNext(cancellationToken).ConfigureAwait(false); messages++)
                {
                    if (messages >= file.ChunkCount)
                    {
                        throw new NodeException(StatusCode.InvalidArgument, FileErrors.SizeMismatch, "The push sends more chunks than the manifest has.");
                    }
                }

                return StoredReceipt(received.Receipt);
            }

            EnsureRoom(file.Size - (long)Math.Min(start.Offset, (ulong)file.Size));
            await ReceiveChunksAsync(requests, start.Offset, file, chunkHashes, partPath, cancellationToken).ConfigureAwait(false);
            files.Store.Commit(partPath, file.Sha256);
            return await DeliverAsync(manifest, start.Manifest, start.Offset > 0, correlationId).ConfigureAwait(false);
        }
        finally
        {
            _pushing.TryRemove(partPath, out _);
        }
    }

    /// <summary>The file is in <c>objects/</c>: it is the recipient's now, with a signed receipt, and the log says so.</summary>
    private async Task<SignedEnvelope> DeliverAsync(CheckedManifest manifest, SignedEnvelope manifestEnvelope, bool resumed, string correlationId)
    {
        var file = manifest.File;
        var (receiptHeader, receipt) = await signer.ReceiptAsync(manifest.Header, manifest.ToBeSigned, file, CancellationToken.None).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var state = await files.Database.InsertReceivedAsync(
            new InboxEntry(manifest.Recipient.ToString(), file, manifest.Peer.ToString(), manifestEnvelope.ToByteArray(), receipt.ToByteArray(), DeliveryState.Delivered, now, now),
            state =>
            [
                FileRecords.Signed(MessageDirection.FileManifestReceived, manifest.Header, manifestEnvelope, file.Sha256, correlationId),
                FileRecords.Signed(MessageDirection.FileReceiptSent, receiptHeader, receipt, file.Sha256, correlationId),
                FileRecords.State(file, manifest.Header.Service, DeliveryStates.Name(state), correlationId),
            ]).ConfigureAwait(false);
        files.Arrived();
        Log.Received(logger, resumed, correlationId);
        return receipt;
    }

    /// <summary>
    /// Appends verified chunks to the part file from the offset the sender starts at. Bytes that
    /// fail a check are refused and the part is deleted (that sender's data is not to be trusted);
    /// a broken connection leaves the verified part for the next push to resume. A full disk
    /// deletes the part too: keeping it would hold on to the space the node lacks, and the
    /// refusal (<see cref="FileErrors.InsufficientStorage"/>) is retried by the sender from zero.
    /// </summary>
    private async Task ReceiveChunksAsync(IAsyncStreamReader<PushRequest> requests, ulong startOffset, FileDescription file, ReadOnlyMemory<byte> chunkHashes, string partPath, CancellationToken cancellationToken)
    {
        var deletePart = false;
        try
        {
            await using var part = files.Store.OpenPart(partPath);
            if (startOffset > (ulong)part.Length || startOffset % (ulong)file.ChunkBytes != 0 || startOffset > (ulong)file.Size)
            {
                throw new NodeException(StatusCode.FailedPrecondition, FileErrors.OffsetMismatch, $"This node holds {part.Length / file.ChunkBytes * file.ChunkBytes} verified bytes; a push cannot start at {startOffset}.");
            }

            var position = (long)startOffset;
            part.SetLength(position);
            part.Position = position;
            using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var verified = await VerifyPrefixAsync(part, position, file, chunkHashes, whole, cancellationToken).ConfigureAwait(false);
            if (verified < position)
            {
                // Bytes an earlier push left no longer match their signed chunks (a power cut can
                // leave garbage in what was not yet flushed). Dropped from the first bad chunk on,
                // and the sender told to offer again: it resumes from what still verifies.
                part.SetLength(verified);
                part.Flush(flushToDisk: true);
                Log.PartDamaged(logger, verified / file.ChunkBytes);
                throw new NodeException(StatusCode.Aborted, FileErrors.PartDamaged,
                    $"The bytes this node held for the file fail their check from chunk {verified / file.ChunkBytes}; offer again to resume from there.");
            }

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
            catch (Exception ex) when (ex is IOException or OperationCanceledException or RpcException && !deletePart && !DiskFull(ex))
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
            deletePart = true;
            Log.DiskFull(logger);
            throw InsufficientStorage();
        }
        finally
        {
            if (deletePart)
            {
                FileStore.DeleteQuietly(partPath);
            }
        }
    }

    private static bool DiskFull(Exception ex) => ex is IOException io && LocalFiles.DiskFull(io);

    /// <summary>
    /// Reads back the bytes an earlier push left, chunk by chunk, each against its entry in the
    /// signed chunk list, adding the good ones to the whole-file hash. Returns where the first
    /// chunk that does not verify starts (<paramref name="length"/> when all do).
    /// </summary>
    private static async Task<long> VerifyPrefixAsync(FileStream part, long length, FileDescription file, ReadOnlyMemory<byte> chunkHashes, IncrementalHash whole, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return 0;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(file.ChunkBytes);
        try
        {
            await using var read = new FileStream(part.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            long verified = 0;
            for (var index = 0; verified < length; index++)
            {
                var chunk = buffer.AsMemory(0, file.ChunkLength(index));
                if (await read.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < chunk.Length
                    || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(chunk.Span), chunkHashes.Span.Slice(index * SHA256.HashSizeInBytes, SHA256.HashSizeInBytes)))
                {
                    return verified;
                }

                whole.AppendData(chunk.Span);
                verified += chunk.Length;
            }

            return verified;
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

        var view = configuration.Current(NodeErrors.ProviderOutdatedGlobalConf);
        var peer = PeerTrustSource.RequireNode(context, view);

        var verified = verification.Verify(
            envelope, view, header => ClientId.TryParse(header.Client, out var c, out _) ? c!.Member : null,
            EnvelopeVerification.ProviderCodes, FileDocuments.SignedFileHash);
        var header = verified.Header;
        var file = FileDocuments.ReadManifest(header, files.Options.MaxFileBytes, out var chunkListHash);
        if (!string.Equals(header.SenderNode, peer.Id.ToString(), StringComparison.Ordinal) || file.Sender.Member != peer.Id.Owner)
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.SenderMismatch,
                $"The manifest names sender {header.Client} but came from node {peer.Id}, which belongs to another member.");
        }

        var sender = ClientId.FromSubsystemId(file.Sender);
        AccessControl.EnsureListed(sender, view);

        var recipient = Recipient(header, view);
        if (!AccessControl.IsAllowed(settingsSource.Current.AccessRules, FileDocuments.ReceiveService(recipient), sender, view))
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

        if (service.Subsystem.Member != nodeId.Owner || !view.SubsystemExists(service.Subsystem))
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

        [LoggerMessage(4622, LogLevel.Warning, "A file of {Needed} bytes would leave {Available} bytes free in the file store, under the reserve of {Reserve}: refused for now")]
        public static partial void NoRoom(ILogger logger, long needed, long available, long reserve);

        [LoggerMessage(4623, LogLevel.Warning, "The file store's disk is full: a pushed file's part was deleted and the push refused for now")]
        public static partial void DiskFull(ILogger logger);

        [LoggerMessage(4624, LogLevel.Warning, "A resumed file's held bytes fail their check from chunk {Chunk}: cut back to there")]
        public static partial void PartDamaged(ILogger logger, long chunk);

        [LoggerMessage(4625, LogLevel.Information, "Deleted {Count} stale part file(s) of pushed files")]
        public static partial void StalePartsDeleted(ILogger logger, int count);

        [LoggerMessage(4626, LogLevel.Warning, "Sweeping stale part files or finished content failed ({Error}); tried again at the next sweep")]
        public static partial void SweepFailed(ILogger logger, string error);

        [LoggerMessage(4628, LogLevel.Warning, "Removed {Count} stored content file(s) that no file names (left by a crash before their record)")]
        public static partial void UnnamedContentRemoved(ILogger logger, int count);

        [LoggerMessage(4627, LogLevel.Information, "Removed the content of {Count} finished file(s) from the store, past the retention (records and hashes kept)")]
        public static partial void ContentRemoved(ILogger logger, int count);
    }
}
