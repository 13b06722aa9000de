// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Pki;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// node.json for <see cref="IOptionsMonitor{NodeSettings}"/>: the change token the monitor listens
/// to, and the factory it asks for settings when that token fires. The poll of
/// <see cref="NodeSettingsSource"/> fires the token, at the node's own interval: a file-system
/// watcher misses changes in containers and on network folders, and the built-in polling watcher's
/// four seconds cannot be set. node.json is read with its own strict reader
/// (<see cref="NodeSettings.Read"/>), the one the <c>xbus node</c> commands write with. The factory
/// never throws once the node runs: a file that is refused leaves the settings in force, so the
/// monitor's value is always settings that passed.
/// </summary>
internal sealed class NodeSettingsFile : IOptionsFactory<NodeSettings>, IOptionsChangeTokenSource<NodeSettings>
{
    private readonly string _path;
    private readonly Lock _read = new();
    private CancellationTokenSource _changed = new();
    private NodeSettings _inForce;
    private (DateTime WrittenAt, long Length) _seen;
    private bool _reread;

    /// <exception cref="NodeConfigurationException">The file is missing or invalid at start.</exception>
    public NodeSettingsFile(string path)
    {
        _path = path;
        _seen = Stamp(path);
        _inForce = NodeSettings.Read(path);
    }

    public string? Name => Options.DefaultName;

    /// <summary>What the last read after a change came to.</summary>
    public SettingsReload LastOutcome { get; private set; } = SettingsReload.Unchanged;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    /// <summary>True when the file was written since last seen; remembered even if what was written is then refused, so one bad edit is reported once.</summary>
    public bool HasChanged()
    {
        (DateTime, long) stamp;
        try
        {
            stamp = Stamp(_path);
        }
        catch (IOException)
        {
            return false;
        }

        if (stamp == _seen)
        {
            return false;
        }

        _seen = stamp;
        return true;
    }

    /// <summary>Fires the change token: the monitor drops its value and asks <see cref="Create"/> for the file's.</summary>
    public void SignalChange()
    {
        _reread = true;
        LastOutcome = SettingsReload.Unchanged;
        using var fired = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        fired.Cancel();
    }

    public NodeSettings Create(string name)
    {
        lock (_read)
        {
            return ReadIfChanged();
        }
    }

    private NodeSettings ReadIfChanged()
    {
        if (!_reread)
        {
            return _inForce;
        }

        _reread = false;
        NodeSettings next;
        try
        {
            next = NodeSettings.Read(_path);
        }
        catch (NodeConfigurationException ex)
        {
            return Refuse(ex.Code, ex.Message);
        }
        catch (PkiException ex)
        {
            return Refuse(ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Refuse(NodeErrors.SettingsInvalid, $"{_path} could not be read: {ex.Message}");
        }

        if (!string.Equals(next.Node, _inForce.Node, StringComparison.Ordinal))
        {
            return Refuse(NodeErrors.SettingsInvalid, $"node.json now names {next.Node}, but this node is {_inForce.Node}; restart with that node's data folder instead.");
        }

        _inForce = next;
        LastOutcome = SettingsReload.Applied;
        return next;
    }

    private NodeSettings Refuse(string code, string message)
    {
        LastOutcome = new SettingsReload(false, code, message);
        return _inForce;
    }

    private static (DateTime, long) Stamp(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? (file.LastWriteTimeUtc, file.Length) : (DateTime.MinValue, -1);
    }
}
