// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Files;

/// <summary>
/// File sync's state on one node: the store and <c>files.db</c>, shared by the local service for
/// the node's systems (<see cref="LocalFiles"/>), the peer service for other nodes
/// (<see cref="FileReceiver"/>), the <see cref="DeliveryWorker"/> and <see cref="FileHousekeeping"/>
/// (docs/files.md).
/// </summary>
public sealed partial class FileSync : IDisposable
{
    private readonly ILogger<FileSync> _logger;
    private readonly CancellationTokenSource _closing = new();
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FileSync(FileSyncOptions options, FileStore store, FilesDatabase database, ILogger<FileSync> logger)
    {
        Options = options;
        Store = store;
        Database = database;
        _logger = logger;
    }

    public FileSyncOptions Options { get; }

    public FileStore Store { get; }

    public FilesDatabase Database { get; }

    /// <summary>Completes when a file next arrives in the inbox (wakes following <c>Receive</c> streams).</summary>
    internal Task NextArrival => Volatile.Read(ref _arrival).Task;

    /// <summary>Cancelled when the node begins to stop: following <c>Receive</c> streams end then rather than hold the shutdown.</summary>
    internal CancellationToken Closing => _closing.Token;

    /// <summary>A file was committed to the inbox.</summary>
    internal void Arrived() => Interlocked.Exchange(ref _arrival, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public static FileSync Open(SqliteMessageLog log, NodePaths paths, FileSyncOptions options, ILogger<FileSync> logger)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(options);

        // The options were validated with the node's (NodeServerOptionsValidator).
        var store = new FileStore(paths.Files);
        return new FileSync(options, store, FilesDatabase.Open(paths.FilesDatabase, log), logger);
    }

    /// <summary>
    /// Puts into the message log the records of state changes a crash kept out of it (they wait
    /// in <c>files.db</c>); called once at start, before the node takes calls.
    /// </summary>
    public async Task RecoverLogAsync()
    {
        var replay = await Database.ReplayLogAsync().ConfigureAwait(false);
        if (replay.Appended > 0 || replay.AlreadyLogged > 0)
        {
            Log.LogReplayed(_logger, replay.Appended, replay.AlreadyLogged);
        }

        if (replay.Kept > 0)
        {
            Log.LogRowsKept(_logger, replay.Kept);
        }
    }

    /// <summary>
    /// Whether <paramref name="needed"/> more bytes in the store leave the configured reserve free
    /// on its filesystem; <paramref name="available"/> is what is free now.
    /// </summary>
    internal bool HasRoom(long needed, out long available)
    {
        available = Store.AvailableBytes();
        return available - needed >= Options.FreeSpaceReserveBytes;
    }

    /// <summary>Holds content while a file naming it is stored and recorded (<see cref="FileStore.Hold"/>), judged against <c>files.db</c>.</summary>
    internal IDisposable Hold(byte[] sha256) => Store.Hold(sha256, () => Database.NamesContent(sha256));

    /// <summary>
    /// Removes from <c>objects/</c> the content that every file naming it has been done with for
    /// <see cref="FileSyncOptions.KeepContent"/>; returns how many were removed. Each is judged
    /// again, under the store's hold lock, just before it goes: a send or push of the same
    /// content meanwhile keeps it.
    /// </summary>
    internal int RemoveFinishedContent(DateTimeOffset now)
    {
        if (Options.KeepContent is not { } keep)
        {
            return 0;
        }

        var before = now - keep;
        var removed = 0;
        foreach (var sha256 in Database.FinishedContent(before))
        {
            if (Store.RemoveUnlessNeeded(sha256, () => Database.ContentNeeded(sha256, before)))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// Removes content no file names, written before <paramref name="before"/>: what a crash left
    /// between content entering <c>objects/</c> and its row committing (a refusal removes its own
    /// at once). Content a call holds is passed by, and the age keeps it clear of any call still
    /// on its way to its row.
    /// </summary>
    internal int RemoveUnnamedContent(DateTimeOffset before)
    {
        var removed = 0;
        foreach (var sha256 in Store.ContentWrittenBefore(before))
        {
            if (Store.RemoveUnlessNeeded(sha256, () => Database.NamesContent(sha256)))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The node is stopping: end following streams.</summary>
    public void BeginClosing() => _closing.Cancel();

    public void Dispose()
    {
        _closing.Cancel();
        Database.Dispose();
        _closing.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4650, LogLevel.Warning, "Recovered file-sync log records after a stop: {Appended} appended to the message log, {AlreadyLogged} were there already")]
        public static partial void LogReplayed(ILogger logger, int appended, int alreadyLogged);

        [LoggerMessage(4651, LogLevel.Error, "{Kept} file-sync log records in files.db could not be read or logged; kept for the next start")]
        public static partial void LogRowsKept(ILogger logger, int kept);
    }
}
