// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;

namespace ExchangeBus.Node.Files;

/// <summary>
/// File sync's limits and retry policy (docs/files.md); the <c>files</c> section of a node's
/// settings (docs/deploy.md), bound under the property names or the documented key an alias
/// (a companion property, some in a named unit) gives.
/// </summary>
public sealed record FileSyncOptions
{
    /// <summary>The largest file this node accepts, from its systems or from a peer.</summary>
    public long MaxFileBytes { get; init; } = 16L * 1024 * 1024 * 1024;

    /// <summary>The chunk size of the manifests this node signs (each chunk's hash is signed through the chunk list).</summary>
    public int ChunkBytes { get; init; } = 1024 * 1024;

    /// <summary>The first retry waits this long; each further one twice as long, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><see cref="RetryBaseDelay"/> as the settings file gives it.</summary>
    public double RetryMilliseconds { get => RetryBaseDelay.TotalMilliseconds; init => RetryBaseDelay = DurationSetting.FromSeconds(value / 1000); }

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Attempts per recipient before the delivery is failed with <see cref="FileErrors.AttemptsExhausted"/>.</summary>
    public int MaxAttempts { get; init; } = 50;

    /// <summary>Deliveries pushed at the same time.</summary>
    public int MaxParallelDeliveries { get; init; } = 4;

    /// <summary><see cref="MaxParallelDeliveries"/> under its settings key.</summary>
    // An alias property, not [ConfigurationKeyName]: the binder's ErrorOnUnknownConfiguration
    // checks keys against the properties' own names and would refuse the attribute's name.
    public int ParallelDeliveries { get => MaxParallelDeliveries; init => MaxParallelDeliveries = value; }

    /// <summary>
    /// Free space a file must leave on the file store's filesystem, besides its own size: room
    /// for the message log and the databases. A peer's push that would eat into it is refused
    /// with <see cref="FileErrors.InsufficientStorage"/>, which the sender retries (space may come
    /// back); so is a file the node's own systems send, on its declared size, before a byte is
    /// written. Zero checks only that the file fits.
    /// </summary>
    public long FreeSpaceReserveBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary><see cref="FreeSpaceReserveBytes"/> under its settings key.</summary>
    public long FreeReserveBytes { get => FreeSpaceReserveBytes; init => FreeSpaceReserveBytes = value; }

    /// <summary>A part file of a pushed file not written for this long is deleted: its sender gave up (or will start again).</summary>
    public TimeSpan StalePartAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary><see cref="StalePartAge"/> as the settings file gives it.</summary>
    public double StalePartHours { get => StalePartAge.TotalHours; init => StalePartAge = DurationSetting.FromSeconds(value * 3600); }

    /// <summary>How often stale part files are looked for (also once at start).</summary>
    public TimeSpan StalePartSweepInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Content is removed from <c>objects/</c> this long after every file naming it reached a final
    /// state (sent: acknowledged or failed for every recipient; received: acknowledged or
    /// superseded), looked for at each stale-part sweep; records and hashes stay. Null (the
    /// default) keeps content until an operator removes it.
    /// </summary>
    public TimeSpan? KeepContent { get; init; }

    /// <summary><see cref="KeepContent"/> as the settings file gives it.</summary>
    public double? KeepContentDays { get => KeepContent?.TotalDays; init => KeepContent = value is { } days ? DurationSetting.FromSeconds(days * 86_400) : null; }

    /// <summary>The smallest and largest chunk a peer's manifest may use.</summary>
    internal const int MinChunkBytes = 16 * 1024;

    internal const int MaxChunkBytes = 4 * 1024 * 1024;
}
