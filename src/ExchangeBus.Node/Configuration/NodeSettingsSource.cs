// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Configuration;

/// <summary>
/// node.json as the running node sees it. `xbus node client|service|acl …` edit the file (atomic
/// rename); the node notices on its next poll and applies the new settings to the calls that
/// start after that, without a restart. A file that does not validate, or that names another
/// node (the keys are this node's), is refused and the settings in force stay.
/// </summary>
public sealed partial class NodeSettingsSource : IAsyncDisposable
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _reload = new();
    private readonly CancellationTokenSource _stop = new();
    private volatile NodeSettings _current;
    private (DateTime WrittenAt, long Length) _seen;
    private Task? _loop;

    private NodeSettingsSource(string path, NodeSettings current, (DateTime, long) seen, TimeProvider time, ILogger logger)
    {
        _path = path;
        _current = current;
        _seen = seen;
        _time = time;
        _logger = logger;
    }

    /// <summary>The settings in force; read once per call so one call sees one version.</summary>
    public NodeSettings Current => _current;

    /// <summary>Raised after new settings are in force.</summary>
    public event Action<NodeSettings>? Changed;

    /// <exception cref="NodeConfigurationException">The file is missing or invalid at start.</exception>
    public static NodeSettingsSource Open(string path, TimeProvider time, ILogger logger)
    {
        var seen = Stamp(path);
        return new NodeSettingsSource(path, NodeSettings.Read(path), seen, time, logger);
    }

    /// <summary>Polls the file every <paramref name="interval"/> until disposed.</summary>
    public void Start(TimeSpan interval) => _loop ??= PollAsync(interval);

    /// <summary>Reads the file now if it changed since last seen.</summary>
    public SettingsReload Reload()
    {
        lock (_reload)
        {
            (DateTime, long) stamp;
            try
            {
                stamp = Stamp(_path);
            }
            catch (IOException)
            {
                return SettingsReload.Unchanged;
            }

            if (stamp == _seen)
            {
                return SettingsReload.Unchanged;
            }

            // Remembered even when refused, so one bad edit is reported once, not every poll.
            _seen = stamp;
            NodeSettings next;
            try
            {
                next = NodeSettings.Read(_path);
            }
            catch (NodeConfigurationException ex)
            {
                Log.Refused(_logger, ex.Code, ex.Message);
                return new SettingsReload(false, ex.Code, ex.Message);
            }

            if (!string.Equals(next.Node, _current.Node, StringComparison.Ordinal))
            {
                var message = $"node.json now names {next.Node}, but this node is {_current.Node}; restart with that node's data folder instead.";
                Log.Refused(_logger, NodeErrors.SettingsInvalid, message);
                return new SettingsReload(false, NodeErrors.SettingsInvalid, message);
            }

            _current = next;
            Log.Applied(_logger, next.Clients.Count, next.Services.Count, next.AccessRules.Count);
            Changed?.Invoke(next);
            return SettingsReload.Applied;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
    }

    private async Task PollAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Reload();
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private static (DateTime, long) Stamp(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1);
    }

    private static partial class Log
    {
        [LoggerMessage(4500, LogLevel.Information, "Node settings reloaded: {Clients} clients, {Services} services, {Rules} access rules")]
        public static partial void Applied(ILogger logger, int clients, int services, int rules);

        [LoggerMessage(4501, LogLevel.Error, "Node settings change refused ({Code}); the previous settings stay in force: {Reason}")]
        public static partial void Refused(ILogger logger, string code, string reason);
    }
}

/// <summary>The outcome of one reload: applied, unchanged (<see cref="Applied"/> false, no code) or refused with a code.</summary>
public sealed record SettingsReload(bool IsApplied, string? ErrorCode, string? Message)
{
    public static readonly SettingsReload Unchanged = new(false, null, null);

    public static readonly SettingsReload Applied = new(true, null, null);
}
