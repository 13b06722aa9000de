// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// Message log events, ids 3000–3099. Sequence numbers, counts and codes only: never payloads,
/// headers, user ids, subject ids or any other record content.
/// </summary>
internal static partial class MessageLogLog
{
    [LoggerMessage(3000, LogLevel.Information, "Message log {Path} opened at sequence {LastSequence} (synchronous {Synchronous})")]
    public static partial void Opened(ILogger logger, string path, long lastSequence, MessageLogSynchronous synchronous);

    [LoggerMessage(3001, LogLevel.Information, "Message log {Path} migrated from schema version {FromVersion} to {ToVersion}")]
    public static partial void Migrated(ILogger logger, string path, int fromVersion, int toVersion);

    [LoggerMessage(3002, LogLevel.Error, "Writing a batch of {Count} message log records failed; none of them was acknowledged")]
    public static partial void BatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(3003, LogLevel.Information, "Message log writer reloaded the chain tail at sequence {LastSequence} after a failed batch")]
    public static partial void TailReloaded(ILogger logger, long lastSequence);

    [LoggerMessage(3004, LogLevel.Information, "Message log {Path} closed at sequence {LastSequence}")]
    public static partial void Closed(ILogger logger, string path, long lastSequence);

    [LoggerMessage(3005, LogLevel.Critical, "Message log writer stopped unexpectedly; every append now fails")]
    public static partial void WriterCrashed(ILogger logger, Exception exception);

    [LoggerMessage(3006, LogLevel.Critical, "Message log {Path} not opened for writing: its last record {Sequence} fails verification ({Problem})")]
    public static partial void TailFailsVerification(ILogger logger, string path, long sequence, string problem);

    [LoggerMessage(3007, LogLevel.Trace, "Committed {Count} message log records up to sequence {LastSequence} in {ElapsedMs:F1} ms")]
    public static partial void BatchCommitted(ILogger logger, int count, long lastSequence, double elapsedMs);

    [LoggerMessage(3008, LogLevel.Warning, "Message log verification failed at record {Sequence}: {Problem}")]
    public static partial void VerificationFailed(ILogger logger, long sequence, string problem);

    [LoggerMessage(3009, LogLevel.Warning, "Reopening the message log writer's connection failed; the next batch tries again")]
    public static partial void ReopenFailed(ILogger logger, Exception exception);

    [LoggerMessage(3010, LogLevel.Warning, "Message log Merkle tree rebuilt from the hashes of {Records} records (its nodes were missing)")]
    public static partial void MerkleRebuilt(ILogger logger, long records);
}
