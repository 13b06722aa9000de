// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;

namespace ExchangeBus.Node.Files;

/// <summary>
/// File sync for the node's own systems, on the local listener: each call acts as a subsystem
/// registered on this node, authenticated as for exchanges (<see cref="ClientExchange.Authenticate"/>).
/// </summary>
public sealed partial class LocalFiles(NodeSettingsSource settingsSource, GlobalConfigurationProvider configuration, TimeProvider time, FileSync files, FileSigner signer, DeliveryWorker worker, DeliveryRetry retry, ILogger<LocalFiles> logger) : Contracts.Files.V1.Files.FilesBase
{
    private const int ReadChunkBytes = 1024 * 1024;
    private const int DefaultListPage = 1_000;
    private const string ConsoleActorPrefix = "console:";
    private const int MaxListPage = 10_000;
    private const int ReceivePage = 64;
    private static readonly TimeSpan StatusRefreshDeadline = TimeSpan.FromSeconds(5);

    public override Task<SendResponse> Send(IAsyncStreamReader<SendRequest> requestStream, ServerCallContext context) =>
        Guarded(context, () => SendAsync(requestStream, context));

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context) =>
        Guarded(context, () => StatusAsync(request, context));

    public override Task Receive(ReceiveRequest request, IServerStreamWriter<ReceiveResponse> responseStream, ServerCallContext context) =>
        Guarded(context, async () =>
        {
            await ReceiveAsync(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    public override Task<AcknowledgeResponse> Acknowledge(AcknowledgeRequest request, ServerCallContext context) =>
        Guarded(context, () => AcknowledgeAsync(request, context));

    public override Task<ListResponse> List(ListRequest request, ServerCallContext context) =>
        Guarded(context, () => Task.FromResult(ListPage(request, context)));

    /// <summary>
    /// <see cref="DeliveryRetry"/> for a file the calling subsystem sent: the caller is
    /// authenticated as for every other call, and the record names whom it says asked.
    /// </summary>
    public override Task<RetryResponse> Retry(RetryRequest request, ServerCallContext context) =>
        Guarded(context, async () =>
        {
            var client = Authenticate(request.Client, context).ToString();
            var recipient = ParseSubsystem(request.Recipient, "recipient").ToString();

            // Console accounts are named only by the console, which checked who they are: a
            // system calling here may not have the message log say a console user asked.
            if (request.RequestedBy.StartsWith(ConsoleActorPrefix, StringComparison.Ordinal))
            {
                throw new NodeException(StatusCode.InvalidArgument, FileErrors.BadMetadata, "requested_by may not name a console account.");
            }

            var entry = await retry.RetryAsync(client, request.FileId, recipient, request.RequestedBy, context.CorrelationId).ConfigureAwait(false);
            return new RetryResponse
            {
                Delivery = new RecipientState
                {
                    Recipient = entry.Recipient, State = entry.State, Reason = entry.Reason, Attempts = (uint)entry.Attempts,
                    ResumedFrom = (ulong)entry.ResumedFrom, UpdatedAt = Timestamp.FromDateTimeOffset(entry.UpdatedAt), Sender = client,
                },
            };
        });

    private Task<T> Guarded<T>(ServerCallContext context, Func<Task<T>> call) =>
        FileCalls.GuardedAsync(context, call, (code, correlationId) => Log.Refused(logger, code, correlationId));

    private async Task<SendResponse> SendAsync(IAsyncStreamReader<SendRequest> requests, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.PartCase != SendRequest.PartOneofCase.Metadata)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.BadMetadata, "The first message of a send must be the file's metadata.");
        }

        var metadata = requests.Current.Metadata;
        FileDocuments.CheckMetadata(metadata, files.Options.MaxFileBytes);
        var sender = Authenticate(metadata.Sender, context);
        var view = configuration.Current(NodeErrors.OutdatedGlobalConf);
        var recipients = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var text in metadata.Recipients)
        {
            var recipient = ParseSubsystem(text, "recipient");
            if (!view.SubsystemExists(recipient))
            {
                throw new NodeException(StatusCode.NotFound, FileErrors.UnknownRecipient, $"{recipient} is not in the global configuration.");
            }

            if (view.NodesOf(recipient.Member).Count == 0)
            {
                throw new NodeException(StatusCode.FailedPrecondition, FileErrors.NoRecipientNode, $"{recipient.Member} has no node in the global configuration.");
            }

            recipients.Add(recipient.ToString());
        }

        var file = new FileDescription(
            metadata.FileId, sender, metadata.DossierId, metadata.DossierVersion, metadata.SubjectId, metadata.ContentType,
            metadata.FileName, (long)metadata.Size, metadata.Sha256.ToByteArray(), files.Options.ChunkBytes);
        var existing = files.Database.GetSent(sender.ToString(), file.FileId);
        if (existing is not null && !SameFile(existing, file, recipients))
        {
            throw new NodeException(StatusCode.AlreadyExists, FileErrors.FileIdConflict, $"File id {file.FileId} was already used for another file.");
        }

        if (existing is null)
        {
            EnsureRoom(file.Size);
        }

        // Until the file's row is committed (or the send refused): content no row names then is removed.
        using var hold = files.Hold(file.Sha256);

        var chunkHashes = await StoreContentAsync(requests, file, store: existing is null, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return new SendResponse { Acceptance = SignedEnvelope.Parser.ParseFrom(existing.Acceptance), Created = false };
        }

        var correlationId = context.CorrelationId;
        var now = time.GetUtcNow();
        // Queued together, so the acceptance and the manifests wait in the signer at once and
        // share one ECDSA signature (with whatever else is waiting there).
        var acceptanceSigned = signer.AcceptanceAsync(file, recipients, cancellationToken);
        var manifestsSigned = recipients.Select(r => signer.ManifestAsync(file, SubsystemId.Parse(r), chunkHashes, cancellationToken)).ToList();
        var (acceptanceHeader, acceptance) = await acceptanceSigned.ConfigureAwait(false);
        var signedManifests = await Task.WhenAll(manifestsSigned).ConfigureAwait(false);
        var manifests = recipients.Zip(signedManifests, (r, m) => (Recipient: r, Manifest: m)).ToList();
        var outbox = manifests.Select(m => new OutboxEntry(
            sender.ToString(), file.FileId, m.Recipient, DeliveryState.Accepted, 0, now, string.Empty, 0, m.Manifest.Envelope.ToByteArray(), null, now)).ToList();
        var records = new List<MessageLogRecord>(manifests.Count + 1)
        {
            FileRecords.Signed(MessageDirection.FileAccepted, acceptanceHeader, acceptance, file.Sha256, correlationId, string.Join(' ', recipients)),
        };
        records.AddRange(manifests.Select(m => FileRecords.Signed(MessageDirection.FileManifestSent, m.Manifest.Header, m.Manifest.Envelope, file.Sha256, correlationId)));
        if (!await files.Database.InsertSentAsync(new SentFile(file, chunkHashes, acceptance.ToByteArray(), now, [.. recipients]), outbox, records).ConfigureAwait(false))
        {
            // Sent twice at once: the other call's acceptance stands.
            var winner = files.Database.GetSent(sender.ToString(), file.FileId)!;
            return SameFile(winner, file, recipients)
                ? new SendResponse { Acceptance = SignedEnvelope.Parser.ParseFrom(winner.Acceptance), Created = false }
                : throw new NodeException(StatusCode.AlreadyExists, FileErrors.FileIdConflict, $"File id {file.FileId} was already used for another file.");
        }

        Log.Accepted(logger, recipients.Count, correlationId);
        worker.Signal();
        return new SendResponse { Acceptance = acceptance, Created = true };
    }

    /// <summary>
    /// Streams the content to a temporary file while hashing it, then moves it into the store.
    /// A resend of a known file is hashed and checked but not written again.
    /// </summary>
    private async Task<byte[]> StoreContentAsync(IAsyncStreamReader<SendRequest> requests, FileDescription file, bool store, CancellationToken cancellationToken)
    {
        var temp = files.Store.NewTempPath();
        try
        {
            using var hasher = new ChunkHasher(file.ChunkBytes);
            byte[] sha;
            byte[] chunkHashes;
            await using (var output = FileStore.OpenWrite(temp, FileMode.CreateNew))
            {
                while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    if (requests.Current.PartCase != SendRequest.PartOneofCase.Chunk)
                    {
                        throw new NodeException(StatusCode.InvalidArgument, FileErrors.BadMetadata, "Only the first message of a send is metadata.");
                    }

                    var data = requests.Current.Chunk.Memory;
                    if (hasher.Length + data.Length > file.Size)
                    {
                        throw new NodeException(StatusCode.InvalidArgument, FileErrors.SizeMismatch, $"The content is longer than the {file.Size} bytes the metadata states.");
                    }

                    hasher.Append(data.Span);
                    if (store)
                    {
                        await output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (hasher.Length != file.Size)
                {
                    throw new NodeException(StatusCode.InvalidArgument, FileErrors.SizeMismatch, $"The content is {hasher.Length} bytes, not the {file.Size} the metadata states.");
                }

                (sha, chunkHashes) = hasher.Complete();
                if (!CryptographicOperations.FixedTimeEquals(sha, file.Sha256))
                {
                    throw new NodeException(StatusCode.InvalidArgument, FileErrors.HashMismatch, "The content's SHA-256 is not the one the metadata states.");
                }

                // On disk before anyone is told it was accepted.
                output.Flush(flushToDisk: true);
            }

            if (store)
            {
                files.Store.Commit(temp, sha);
            }
            else
            {
                File.Delete(temp);
            }

            return chunkHashes;
        }
        catch (IOException ex) when (DiskFull(ex))
        {
            FileStore.DeleteQuietly(temp);
            throw new NodeException(StatusCode.ResourceExhausted, FileErrors.InsufficientStorage, "The node's disk is full.");
        }
        catch
        {
            FileStore.DeleteQuietly(temp);
            throw;
        }
    }

    private async Task<StatusResponse> StatusAsync(StatusRequest request, ServerCallContext context)
    {
        var client = Authenticate(request.Client, context).ToString();
        var response = new StatusResponse();
        if (files.Database.GetSent(client, request.FileId) is { } sent)
        {
            response.Metadata = sent.Description.ToMetadata(sent.Recipients);
            // Delivered recipients are asked whether their system acknowledged, all at once and
            // briefly: a recipient node that is down must not make the status slow.
            var entries = await Task.WhenAll(files.Database.Outbox(client, request.FileId).Select(entry => entry.State == DeliveryState.Delivered
                ? worker.RefreshAcknowledgedAsync(entry, sent.Description, StatusRefreshDeadline, context.CancellationToken)
                : Task.FromResult(entry))).ConfigureAwait(false);
            foreach (var current in entries)
            {
                response.Recipients.Add(new RecipientState
                {
                    Recipient = current.Recipient,
                    State = current.State,
                    Reason = current.Reason,
                    Attempts = (uint)current.Attempts,
                    ResumedFrom = (ulong)current.ResumedFrom,
                    Receipt = current.Receipt is null ? null : SignedEnvelope.Parser.ParseFrom(current.Receipt),
                    UpdatedAt = Timestamp.FromDateTimeOffset(current.UpdatedAt),
                    Sender = client,
                });
            }
        }

        foreach (var received in files.Database.ReceivedByFileId(client, request.FileId))
        {
            response.Metadata ??= received.Description.ToMetadata([client]);
            response.Recipients.Add(new RecipientState
            {
                Recipient = client,
                State = received.State,
                Reason = received.State == DeliveryState.Failed ? FileErrors.ContentMissing : string.Empty,
                Receipt = SignedEnvelope.Parser.ParseFrom(received.Receipt),
                UpdatedAt = Timestamp.FromDateTimeOffset(received.UpdatedAt),
                Sender = received.Description.Sender.ToString(),
            });
        }

        return response.Metadata is null
            ? throw new NodeException(StatusCode.NotFound, FileErrors.NotFound, $"{client} has sent or received no file with id {request.FileId}.")
            : response;
    }

    /// <summary>
    /// Hands out pending files in arrival order, a page at a time behind a cursor, so a file
    /// acknowledged meanwhile is not sent twice in one stream and a backlog is never read whole.
    /// Following, the stream then waits for each new file until the caller (or the node) ends it.
    /// </summary>
    private async Task ReceiveAsync(ReceiveRequest request, IServerStreamWriter<ReceiveResponse> responses, ServerCallContext context)
    {
        var recipient = Authenticate(request.Recipient, context).ToString();
        var remaining = request.MaxFiles == 0 ? long.MaxValue : request.MaxFiles;
        var buffer = ArrayPool<byte>.Shared.Rent(ReadChunkBytes);
        try
        {
            long after = 0;
            while (remaining > 0)
            {
                // Taken before the query: a file committed after it completes this task.
                var arrival = files.NextArrival;
                var want = (int)Math.Min(ReceivePage, remaining);
                var page = files.Database.Pending(recipient, after, want);
                foreach (var (position, entry) in page)
                {
                    after = position;
                    if (await HandOutAsync(entry, request.IncludeContent, buffer, responses, context).ConfigureAwait(false))
                    {
                        remaining--;
                    }
                }

                if (page.Count == want)
                {
                    continue;
                }

                if (!request.Follow || !await ArrivedAsync(arrival, context.CancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends one file's description (and content); false when its content was gone and it was failed instead.</summary>
    private async Task<bool> HandOutAsync(InboxEntry entry, bool includeContent, byte[] buffer, IServerStreamWriter<ReceiveResponse> responses, ServerCallContext context)
    {
        await using var content = includeContent ? TryOpenContent(entry) : null;
        if (content is null && (includeContent || !files.Store.Has(entry.Description.Sha256)))
        {
            await FailLostAsync(entry, context.CorrelationId).ConfigureAwait(false);
            return false;
        }

        await responses.WriteAsync(new ReceiveResponse { File = Describe(entry) }, context.CancellationToken).ConfigureAwait(false);
        if (content is not null)
        {
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, ReadChunkBytes), context.CancellationToken).ConfigureAwait(false)) > 0)
            {
                await responses.WriteAsync(new ReceiveResponse { Chunk = ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken).ConfigureAwait(false);
            }
        }

        return true;
    }

    /// <summary>Waits for the next file; false when the node is stopping (the stream then ends cleanly, and the caller reconnects).</summary>
    private async Task<bool> ArrivedAsync(Task arrival, CancellationToken call)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(call, files.Closing);
        try
        {
            await arrival.WaitAsync(either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!call.IsCancellationRequested)
        {
            return false;
        }
    }

    private FileStream? TryOpenContent(InboxEntry entry)
    {
        try
        {
            return files.Store.OpenRead(entry.Description.Sha256);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// A file whose content is gone would fail every <c>Receive</c> at the same place and hold back
    /// the files after it: it is failed with <see cref="FileErrors.ContentMissing"/> (shown by
    /// <c>Status</c>, logged) and the stream goes on. The sender's node keeps its receipt; sending
    /// the file again under a new id is the remedy.
    /// </summary>
    private async Task FailLostAsync(InboxEntry entry, string correlationId)
    {
        var record = FileRecords.State(
            entry.Description, FileDocuments.ReceiveService(SubsystemId.Parse(entry.Recipient)).ToString(), FileErrors.ContentMissing, correlationId);
        if (await files.Database.FailReceivedAsync(entry.Recipient, entry.Description.Sender.ToString(), entry.Description.FileId, time.GetUtcNow(), record).ConfigureAwait(false))
        {
            Log.ContentMissing(logger, correlationId);
        }
    }

    private async Task<AcknowledgeResponse> AcknowledgeAsync(AcknowledgeRequest request, ServerCallContext context)
    {
        var recipient = Authenticate(request.Recipient, context).ToString();
        var entry = files.Database.GetReceived(recipient, request.Sender, request.FileId)
            ?? throw new NodeException(StatusCode.NotFound, FileErrors.NotFound, $"{recipient} has received no file {request.FileId} from {request.Sender}.");
        if (entry.State != DeliveryState.Acknowledged)
        {
            await files.Database.AcknowledgeAsync(recipient, request.Sender, request.FileId, time.GetUtcNow(), FileRecords.State(
                entry.Description, FileDocuments.ReceiveService(SubsystemId.Parse(recipient)).ToString(), DeliveryStates.Name(DeliveryState.Acknowledged), context.CorrelationId))
                .ConfigureAwait(false);
        }

        return new AcknowledgeResponse { State = DeliveryState.Acknowledged };
    }

    /// <summary>
    /// One page of the subsystem's files: the sent ones, then the received ones, each in a total
    /// order, so a walk that follows <c>next_page_token</c> sees every file that was there when it
    /// began exactly once. One row more than the page is read, so a page ends with a token only
    /// when something follows it.
    /// </summary>
    private ListResponse ListPage(ListRequest request, ServerCallContext context)
    {
        var client = Authenticate(request.Client, context).ToString();
        var dossier = request.DossierId.Length == 0 ? null : request.DossierId;
        var size = request.PageSize == 0 ? DefaultListPage : (int)Math.Min(request.PageSize, MaxListPage);
        var (inReceived, after) = request.PageToken.Length == 0 ? (false, null) : ListPageToken.Read(request.PageToken, client, dossier);
        var response = new ListResponse();
        if (!inReceived)
        {
            var sent = files.Database.ListSent(client, dossier, after, size + 1);
            foreach (var (file, state) in sent.Take(size))
            {
                response.Files.Add(new ListedFile
                {
                    Metadata = file.Description.ToMetadata(file.Recipients),
                    Direction = "sent",
                    State = state,
                    At = Timestamp.FromDateTimeOffset(file.AcceptedAt),
                });
            }

            if (sent.Count > size)
            {
                var last = sent[size - 1].File;
                response.NextPageToken = ListPageToken.Write(client, dossier, received: false, Position(last.Description, last.AcceptedAt));
                return response;
            }

            after = null;
        }

        var room = size - response.Files.Count;
        var received = files.Database.ListReceived(client, dossier, after, room + 1);
        foreach (var entry in received.Take(room))
        {
            response.Files.Add(new ListedFile
            {
                Metadata = entry.Description.ToMetadata([client]),
                Direction = "received",
                State = entry.State,
                At = Timestamp.FromDateTimeOffset(entry.ReceivedAt),
            });
        }

        if (received.Count > room)
        {
            // With no room left after the sent files, the next page starts at the first received one.
            var next = room == 0 ? after : Position(received[room - 1].Description, received[room - 1].ReceivedAt);
            response.NextPageToken = ListPageToken.Write(client, dossier, received: true, next);
        }

        return response;
    }

    internal static ListPosition Position(FileDescription file, DateTimeOffset at) =>
        new(file.DossierId, file.DossierVersion, at.ToUnixTimeMilliseconds(), file.Sender.ToString(), file.FileId);

    private static ReceivedFile Describe(InboxEntry entry) => new()
    {
        Metadata = entry.Description.ToMetadata([entry.Recipient]),
        SenderNode = entry.SenderNode,
        Manifest = SignedEnvelope.Parser.ParseFrom(entry.Manifest),
        Receipt = SignedEnvelope.Parser.ParseFrom(entry.Receipt),
        ReceivedAt = Timestamp.FromDateTimeOffset(entry.ReceivedAt),
    };

    private SubsystemId Authenticate(string text, ServerCallContext context)
    {
        var client = ParseSubsystem(text, "client");
        ClientExchange.Authenticate(settingsSource.Current, client, LocalGateway.Caller(context));
        return client;
    }

    private static SubsystemId ParseSubsystem(string text, string what) =>
        SubsystemId.TryParse(text, out var id, out var error)
            ? id!
            : throw new NodeException(StatusCode.InvalidArgument, NodeErrors.InvalidIdentifier, $"Invalid {what} identifier: {error!.Message}");

    private static bool SameFile(SentFile existing, FileDescription file, IEnumerable<string> recipients)
    {
        var d = existing.Description;
        return d.Size == file.Size && CryptographicOperations.FixedTimeEquals(d.Sha256, file.Sha256)
            && d.DossierId == file.DossierId && d.DossierVersion == file.DossierVersion && d.FileName == file.FileName
            && d.SubjectId == file.SubjectId && d.ContentType == file.ContentType
            && existing.Recipients.Order(StringComparer.Ordinal).SequenceEqual(recipients.Order(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    /// <summary>
    /// The same free-space reserve a recipient applies to a peer's file, for a file the node's own
    /// systems send: checked on the declared size before a byte is written. Sends running at the
    /// same time are not counted; when together they fill the disk, the writes meet it (ENOSPC)
    /// and are refused with the same code.
    /// </summary>
    private void EnsureRoom(long size)
    {
        if (!files.HasRoom(size, out var available))
        {
            Log.NoRoom(logger, size, available, files.Options.FreeSpaceReserveBytes);
            throw new NodeException(StatusCode.ResourceExhausted, FileErrors.InsufficientStorage, "The node has not enough free storage for this file now; try again later.");
        }
    }

    /// <summary>ENOSPC on Linux and macOS, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    internal static bool DiskFull(IOException ex) => (ex.HResult & 0xFFFF) is 28 or 112 or 39;

    private static partial class Log
    {
        [LoggerMessage(4610, LogLevel.Information, "Accepted a file for {Recipients} recipient(s) (correlation id {CorrelationId})")]
        public static partial void Accepted(ILogger logger, int recipients, string correlationId);

        [LoggerMessage(4611, LogLevel.Information, "Refused a file call: {Code} (correlation id {CorrelationId})")]
        public static partial void Refused(ILogger logger, string code, string correlationId);

        [LoggerMessage(4613, LogLevel.Warning, "A file of {Size} bytes would leave {Available} bytes free in the file store, under the reserve of {Reserve}: refused for now")]
        public static partial void NoRoom(ILogger logger, long size, long available, long reserve);

        [LoggerMessage(4612, LogLevel.Error, "A received file's content is missing from the store; failed it with Files.ContentMissing (correlation id {CorrelationId})")]
        public static partial void ContentMissing(ILogger logger, string correlationId);
    }
}
