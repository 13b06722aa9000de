// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using Grpc.Core;

namespace ExchangeBus.Node.Files;

/// <summary>
/// An operator's retry of one failed delivery (sender subsystem, file id, recipient): the
/// outbox row goes back to accepted, due now, with a fresh attempt budget, and a <c>retry</c>
/// record naming who asked goes into the message log in the same transaction; the failure
/// before it stays there, so the trail reads failed, retry, sending, delivered (or failed again).
/// Then the <see cref="DeliveryWorker"/> is woken. The console's file sync page and
/// <c>xbus files retry</c> (through the local API's <c>Files.Retry</c>) both come here.
/// Refusals are <see cref="NodeException"/>s with the codes in <see cref="FileErrors"/>.
/// </summary>
public sealed partial class DeliveryRetry(FileSync files, DeliveryWorker worker, TimeProvider time, ILogger<DeliveryRetry> logger)
{
    /// <summary>The admin audit log's action for a retry request, from the console or <c>xbus files retry</c>.</summary>
    public const string AuditAction = "node.files.retry";

    /// <summary>Longest "who asked" kept in the record (the message log's text fields allow more; nobody's name needs it).</summary>
    public const int MaxRequestedBy = 256;

    /// <param name="sender">The sending subsystem, as files.db keys it.</param>
    /// <param name="fileId">The file's id.</param>
    /// <param name="recipient">The recipient subsystem, canonical text.</param>
    /// <param name="requestedBy">Who asked, as the admin audit log names actors (<c>console:NAME</c>, <c>cli:USER</c>).</param>
    /// <param name="correlationId">The record's and the logs' correlation id.</param>
    /// <exception cref="NodeException">
    /// <see cref="FileErrors.NotFound"/>, <see cref="FileErrors.NotRetryable"/>, <see cref="FileErrors.FinalRefusal"/>,
    /// <see cref="FileErrors.ContentGone"/>; <see cref="FileErrors.BadMetadata"/> for an empty or overlong <paramref name="requestedBy"/>.
    /// </exception>
    public async Task<OutboxEntry> RetryAsync(string sender, string fileId, string recipient, string requestedBy, string correlationId)
    {
        if (string.IsNullOrWhiteSpace(requestedBy) || requestedBy.Length > MaxRequestedBy)
        {
            throw new NodeException(StatusCode.InvalidArgument, FileErrors.BadMetadata, $"Who asked for the retry must be named, in at most {MaxRequestedBy} characters.");
        }

        var sent = files.Database.GetSent(sender, fileId);
        var entry = sent is null ? null : files.Database.Outbox(sender, fileId).FirstOrDefault(e => e.Recipient == recipient);
        if (sent is null || entry is null)
        {
            throw Refused(StatusCode.NotFound, FileErrors.NotFound, $"No delivery of file {fileId} from {sender} to {recipient}.", correlationId);
        }

        if (entry.State != DeliveryState.Failed)
        {
            throw Refused(StatusCode.FailedPrecondition, FileErrors.NotRetryable, $"The delivery is {DeliveryStates.Name(entry.State)}, not failed: only a failed delivery is retried.", correlationId);
        }

        if (FileErrors.RetryCannotHelp(entry.Reason))
        {
            throw Refused(StatusCode.FailedPrecondition, FileErrors.FinalRefusal, $"The recipient refused the signed manifest itself ({entry.Reason}); a retry would push the same one. Send the file again under a new id.", correlationId);
        }

        var file = sent.Description;

        // Held from the look in the store until the row is pending again: the housekeeping sweep
        // passes held content by, and after the commit the pending row keeps it.
        using (files.Hold(file.Sha256))
        {
            if (!files.Store.Has(file.Sha256))
            {
                throw Refused(StatusCode.FailedPrecondition, FileErrors.ContentGone, "The file's content is no longer held by this node (removed after its retention); send the file again.", correlationId);
            }

            var service = FileDocuments.ReceiveService(SubsystemId.Parse(recipient)).ToString();
            var record = FileRecords.Retry(file, service, requestedBy, correlationId);
            if (!await files.Database.RetryFailedAsync(sender, fileId, recipient, time.GetUtcNow(), record).ConfigureAwait(false))
            {
                // Another retry won meanwhile: this one asked for a delivery that is no longer failed.
                throw Refused(StatusCode.FailedPrecondition, FileErrors.NotRetryable, "The delivery was retried meanwhile.", correlationId);
            }
        }

        Log.Retried(logger, entry.Reason, correlationId);
        worker.Signal();
        return files.Database.Outbox(sender, fileId).First(e => e.Recipient == recipient);
    }

    private NodeException Refused(StatusCode status, string code, string message, string correlationId)
    {
        Log.RetryRefused(logger, code, correlationId);
        return new NodeException(status, code, message);
    }

    private static partial class Log
    {
        [LoggerMessage(4660, LogLevel.Information, "A failed delivery ({Reason}) was put back in the queue by an operator (correlation id {CorrelationId})")]
        public static partial void Retried(ILogger logger, string reason, string correlationId);

        [LoggerMessage(4661, LogLevel.Information, "A retry of a delivery was refused with {Code} (correlation id {CorrelationId})")]
        public static partial void RetryRefused(ILogger logger, string code, string correlationId);
    }
}
