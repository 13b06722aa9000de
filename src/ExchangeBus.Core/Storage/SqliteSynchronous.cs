// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Storage;

/// <summary>SQLite's <c>PRAGMA synchronous</c> levels that the bus uses in WAL mode.</summary>
public enum SqliteSynchronous
{
    /// <summary>The WAL is flushed at checkpoints only: a commit survives a process crash, not necessarily a power cut.</summary>
    Normal,

    /// <summary>The WAL is flushed at every commit: a commit survives a power cut.</summary>
    Full,
}
