// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using Grpc.Core;

namespace ExchangeBus.Node.Files;

/// <summary>
/// Stable error codes of file sync (docs/design/file-sync.md). Checks file sync shares with the
/// exchange keep their <see cref="NodeErrors"/> codes: an unregistered caller, a peer node not in
/// the configuration, a manifest signature or signer that does not hold, the access list.
/// </summary>
public static class FileErrors
{
    /// <summary>The first message is not the metadata, or a field is missing or malformed.</summary>
    public const string BadMetadata = "Files.BadMetadata";

    /// <summary>The file name has a path separator, is <c>.</c> or <c>..</c>, or has control characters.</summary>
    public const string UnsafeFileName = "Files.UnsafeFileName";

    /// <summary>The file is larger than the node's limit.</summary>
    public const string TooLarge = "Files.TooLarge";

    /// <summary>The content's length is not the size the metadata or manifest states.</summary>
    public const string SizeMismatch = "Files.SizeMismatch";

    /// <summary>The content's SHA-256 is not the one the metadata or manifest states.</summary>
    public const string HashMismatch = "Files.HashMismatch";

    /// <summary>A chunk's SHA-256 is not the one the signed chunk list has for it.</summary>
    public const string ChunkMismatch = "Files.ChunkMismatch";

    /// <summary>The chunk list does not hash to what the manifest signs, or has the wrong length.</summary>
    public const string ChunkListMismatch = "Files.ChunkListMismatch";

    /// <summary>The file id was used before by the same sender for another file.</summary>
    public const string FileIdConflict = "Files.FileIdConflict";

    /// <summary>A recipient subsystem is not in the global configuration, or not on the node it was sent to.</summary>
    public const string UnknownRecipient = "Files.UnknownRecipient";

    /// <summary>A recipient's member has no node in the global configuration.</summary>
    public const string NoRecipientNode = "Files.NoRecipientNode";

    /// <summary>The manifest is not a complete file manifest (kind, identifiers, metadata).</summary>
    public const string InvalidManifest = "Files.InvalidManifest";

    /// <summary>A push does not start where the recipient's verified bytes end.</summary>
    public const string OffsetMismatch = "Files.OffsetMismatch";

    /// <summary>Another push of the same file is running on the recipient's node (transient).</summary>
    public const string TransferInProgress = "Files.TransferInProgress";

    /// <summary>The recipient's disk is full, or the file would leave less free than its reserve (transient: space may come back).</summary>
    public const string InsufficientStorage = "Files.InsufficientStorage";

    /// <summary>
    /// Bytes the recipient held from an earlier push no longer match their signed chunks (a power
    /// cut, say); it dropped them from the first bad chunk on, and the next offer resumes there (transient).
    /// </summary>
    public const string PartDamaged = "Files.PartDamaged";

    /// <summary>The receipt does not verify, is not the recipient member's, or does not answer the manifest.</summary>
    public const string InvalidReceipt = "Files.InvalidReceipt";

    /// <summary>No node of the recipient could be reached (transient, while retries last).</summary>
    public const string RecipientUnreachable = "Files.RecipientUnreachable";

    /// <summary>The delivery failed as many times as the node allows.</summary>
    public const string AttemptsExhausted = "Files.AttemptsExhausted";

    /// <summary>No such file for this subsystem (or, for a retry, no delivery of it to that recipient).</summary>
    public const string NotFound = "Files.NotFound";

    /// <summary>A retry of a delivery that is not failed: it is still pending (accepted, sending) or it was delivered.</summary>
    public const string NotRetryable = "Files.NotRetryable";

    /// <summary>
    /// A retry of a delivery whose content is no longer in the store: housekeeping removed it
    /// after <see cref="FileSyncOptions.KeepContent"/>, or someone did by hand. The file must be sent again.
    /// </summary>
    public const string ContentGone = "Files.ContentGone";

    /// <summary>
    /// A retry of a delivery whose recipient refused the signed manifest itself (see
    /// <see cref="RetryCannotHelp"/>): a retry pushes that same manifest and can only be refused
    /// the same way. The file must be sent again, under a new file id.
    /// </summary>
    public const string FinalRefusal = "Files.FinalRefusal";

    /// <summary>A <c>List</c> page token that is not one the node gave out, or was given for another client or dossier.</summary>
    public const string BadPageToken = "Files.BadPageToken";

    /// <summary>
    /// A received file's content is gone from the node's store (removed by hand, or lost to a
    /// crash before the store's folder was synced): the file is failed for its recipient with
    /// this code instead of blocking the files after it.
    /// </summary>
    public const string ContentMissing = "Files.ContentMissing";

    /// <summary>
    /// Failure reasons an operator's retry cannot cure, because a retry pushes the very manifest
    /// the sender's node signed when it accepted the file and the recipient judged that document,
    /// not anything around it: a file id the recipient already holds for other content
    /// (<see cref="FileIdConflict"/>), a manifest it found incomplete (<see cref="InvalidManifest"/>)
    /// or whose chunk list does not hash to what it signs (<see cref="ChunkListMismatch"/>).
    /// Every other final reason is left to the operator's judgement, since its cause can be put
    /// right outside the signed document: the recipient's access list (<c>AccessDenied</c>), its
    /// limits (<see cref="TooLarge"/>), the global configuration (<see cref="UnknownRecipient"/>,
    /// <see cref="NoRecipientNode"/>), either side's certificates and OCSP (the signature codes,
    /// <see cref="InvalidReceipt"/>), an outage that outlasted the attempts
    /// (<see cref="AttemptsExhausted"/>), and also content the recipient found different from the
    /// manifest (<see cref="HashMismatch"/>, <see cref="SizeMismatch"/>, <see cref="ChunkMismatch"/>):
    /// the manifest was signed over the bytes the node received and checked, so those mean the
    /// bytes in <c>objects/</c> or on the way were damaged, which an operator can restore from a
    /// backup before retrying. The earlier failure stays in the message log either way.
    /// </summary>
    public static bool RetryCannotHelp(string reason) => reason is FileIdConflict or InvalidManifest or ChunkListMismatch;

    /// <summary>
    /// Codes worth retrying; every other coded answer is final. Besides what a recipient may
    /// answer, the sending node's own configuration or OCSP response being out of date is
    /// transient too (its upkeep loops recover them), and so is an unexpected fault the
    /// recipient's transport reported (<c>Server.InternalError</c>): none says the file is bad.
    /// </summary>
    internal static bool IsTransient(string? code) => code is null
        or TransferInProgress or InsufficientStorage or PartDamaged or RecipientUnreachable
        or NodeErrors.ProviderOutdatedGlobalConf or NodeErrors.ProviderTimestampingFailed or NodeErrors.StaleOcsp
        or NodeErrors.ProviderInternal or RichStatus.InternalErrorCode
        or NodeErrors.OutdatedGlobalConf or NodeErrors.OwnOcspUnavailable;
}

/// <summary>How file sync's handlers answer a refusal: its status and code with the call's correlation id, logged by code only.</summary>
internal static class FileCalls
{
    public static async Task<T> GuardedAsync<T>(ServerCallContext context, Func<Task<T>> call, Action<string, string> logRefusal)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (NodeException ex)
        {
            logRefusal(ex.Code, context.CorrelationId);
            throw ex.ToRpc(context.CorrelationId);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex) when (FilesDatabase.IsFull(ex))
        {
            // files.db met a full disk: its transaction rolled back, and the caller's answer is the
            // one a full disk gets anywhere else (transient), not an internal error.
            logRefusal(FileErrors.InsufficientStorage, context.CorrelationId);
            throw new NodeException(StatusCode.ResourceExhausted, FileErrors.InsufficientStorage, "The node's disk is full; try again later.")
                .ToRpc(context.CorrelationId);
        }
    }
}
