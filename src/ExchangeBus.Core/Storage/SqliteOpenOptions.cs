// SPDX-License-Identifier: Apache-2.0
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Storage;

/// <summary>
/// How a bus database is opened. The defaults are nobody's choice: each store states the
/// settings it needs, so the differences between the registry, the message log and file sync
/// are visible in one place each (their <c>…Database</c> classes).
/// </summary>
public sealed record SqliteOpenOptions
{
    public SqliteOpenMode Mode { get; init; } = SqliteOpenMode.ReadWriteCreate;

    /// <summary>Microsoft.Data.Sqlite's connection pool; off where closing a connection must really close the file.</summary>
    public bool Pooling { get; init; }

    /// <summary><c>PRAGMA foreign_keys=ON</c> on every connection (SQLite's default is off).</summary>
    public bool ForeignKeys { get; init; }

    /// <summary>Put the file in WAL mode (it stays so) and refuse it, <see cref="StorageErrors.NotWal"/>, if SQLite will not.</summary>
    public bool Wal { get; init; }

    /// <summary><c>PRAGMA synchronous</c>; null leaves SQLite's default (FULL).</summary>
    public SqliteSynchronous? Synchronous { get; init; }

    /// <summary>
    /// <c>PRAGMA busy_timeout</c>; null leaves none. When <see cref="BusyTimeoutBoundsCommands"/>,
    /// also the command timeout (Microsoft.Data.Sqlite retries a busy statement until it, on top
    /// of SQLite's own wait, 30 seconds unless set).
    /// </summary>
    public TimeSpan? BusyTimeout { get; init; }

    public bool BusyTimeoutBoundsCommands { get; init; }

    /// <summary><c>PRAGMA query_only</c>: a connection that can read a file it may also create.</summary>
    public bool QueryOnly { get; init; }

    /// <summary>Create a missing file readable by its owner only (not on Windows); SQLite gives the -wal and -shm files the same mode.</summary>
    public bool OwnerOnly { get; init; }

    /// <summary>Further pragmas run on every open, each <c>name=value</c>.</summary>
    public IReadOnlyList<string> Pragmas { get; init; } = [];
}
