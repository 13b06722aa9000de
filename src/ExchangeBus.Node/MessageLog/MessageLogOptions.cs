// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.MessageLog;

/// <summary>How the message log commits to disk.</summary>
public enum MessageLogSynchronous
{
    /// <summary>Every commit is flushed to the disk: an acknowledged record survives a power cut.</summary>
    Full,

    /// <summary>
    /// Commits reach the operating system but are flushed only at checkpoints: an acknowledged
    /// record survives the process being killed, not a power cut or a kernel crash.
    /// </summary>
    Normal,
}

/// <summary>Settings of the message log.</summary>
public sealed record MessageLogOptions
{
    public const long DefaultMaxBodyBytes = 64L * 1024 * 1024;

    /// <summary>Largest body kept (bytes). A body is refused, not cut, when it is larger.</summary>
    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    public MessageLogSynchronous Synchronous { get; init; } = MessageLogSynchronous.Full;

    /// <summary>Most records written in one transaction.</summary>
    public int MaxBatchSize { get; init; } = 1_000;

    /// <summary>Records that may wait for the writer; when full, appenders wait (back-pressure).</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>How long a statement waits for a lock held by another connection before failing.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// SQLite's <c>wal_autocheckpoint</c> in pages (0 turns automatic checkpoints off). Only the
    /// crash tests change it, to copy a write-ahead log that is never rewritten underneath them.
    /// </summary>
    internal int WalAutoCheckpointPages { get; init; } = 1_000;

    /// <summary>Every problem with these settings.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxBodyBytes is < 0 or > int.MaxValue)
        {
            problems.Add($"{nameof(MaxBodyBytes)} must be between 0 and {int.MaxValue}");
        }

        if (!Enum.IsDefined(Synchronous))
        {
            problems.Add($"{nameof(Synchronous)} must be Full or Normal");
        }

        if (MaxBatchSize is < 1 or > 100_000)
        {
            problems.Add($"{nameof(MaxBatchSize)} must be between 1 and 100000");
        }

        if (QueueCapacity < 1)
        {
            problems.Add($"{nameof(QueueCapacity)} must be at least 1");
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"{nameof(BusyTimeout)} must be between 0 and 10 minutes");
        }

        if (WalAutoCheckpointPages < 0)
        {
            problems.Add($"{nameof(WalAutoCheckpointPages)} must not be negative");
        }

        return problems;
    }
}
