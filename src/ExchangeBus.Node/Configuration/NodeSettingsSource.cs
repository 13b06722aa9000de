// SPDX-License-Identifier: Apache-2.0
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// node.json as the running node sees it. `xbus node client|service|acl …` edit the file (atomic
/// rename); the node notices on its next poll and applies the new settings to the calls that
/// start after that, without a restart. A file that does not validate, or that names another
/// node (the keys are this node's), is refused and the settings in force stay. The settings are
/// an <see cref="IOptionsMonitor{NodeSettings}"/> (<see cref="Monitor"/>) whose change token this
/// poll fires; <see cref="Current"/> is its value.
/// </summary>
public sealed partial class NodeSettingsSource : IAsyncDisposable
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(2);

    private readonly NodeSettingsFile _file;
    private readonly OptionsMonitor<NodeSettings> _monitor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _reload = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    private NodeSettingsSource(NodeSettingsFile file, TimeProvider time, ILogger logger)
    {
        _file = file;
        _monitor = new OptionsMonitor<NodeSettings>(file, [file], new OptionsCache<NodeSettings>());
        _time = time;
        _logger = logger;
    }

    /// <summary>The settings in force; read once per call so one call sees one version.</summary>
    public NodeSettings Current => _monitor.CurrentValue;

    /// <summary>The settings as options: what a service composed by DI takes to follow node.json.</summary>
    public IOptionsMonitor<NodeSettings> Monitor => _monitor;

    /// <summary>Raised after new settings are in force.</summary>
    public event Action<NodeSettings>? Changed;

    /// <exception cref="NodeConfigurationException">The file is missing or invalid at start.</exception>
    public static NodeSettingsSource Open(string path, TimeProvider time, ILogger logger) => new(new NodeSettingsFile(path), time, logger);

    /// <summary>Polls the file every <paramref name="interval"/> until disposed.</summary>
    public void Start(TimeSpan interval) => _loop ??= PollAsync(interval);

    /// <summary>Reads the file now if it changed since last seen.</summary>
    public SettingsReload Reload()
    {
        lock (_reload)
        {
            if (!_file.HasChanged())
            {
                return SettingsReload.Unchanged;
            }

            _file.SignalChange();

            // The monitor read the file when its token fired; a refused file left the settings in force.
            var outcome = _file.LastOutcome;
            if (!outcome.IsApplied)
            {
                Log.Refused(_logger, outcome.ErrorCode!, outcome.Message!);
                return outcome;
            }

            var next = Current;
            Log.Applied(_logger, next.Clients.Count, next.Services.Count, next.AccessRules.Count);
            Changed?.Invoke(next);
            return outcome;
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
        _monitor.Dispose();
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
