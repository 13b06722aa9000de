// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Storage;

/// <summary>How a <see cref="GroupCommitWriter"/> queues and batches.</summary>
public sealed record GroupCommitOptions
{
    /// <summary>The writer thread's name (seen in dumps and debuggers).</summary>
    public required string Name { get; init; }

    /// <summary>Writes waiting beyond this make writers wait for room; null: no bound.</summary>
    public int? QueueCapacity { get; init; }

    /// <summary>At most this many writes per transaction.</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>A batch stops growing once the writes' stated sizes reach this, so one transaction (and the WAL) stays modest.</summary>
    public long MaxBatchBytes { get; init; } = long.MaxValue;

    /// <summary>
    /// Each write in its own savepoint: a write that throws fails alone and the rest of its batch
    /// commits. Without it, a write that throws fails its whole batch, for stores whose writes
    /// build on each other (the message log's hash chain).
    /// </summary>
    public bool IsolateWrites { get; init; }
}
