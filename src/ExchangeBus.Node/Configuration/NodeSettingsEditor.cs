// SPDX-License-Identifier: Apache-2.0
using System.Text.Json.Nodes;
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// The one way node.json is changed by people, for the <c>xbus node client|service|acl</c>
/// commands and the web console alike: read, change, validate, write atomically, under an
/// exclusive lock on <c>node.json.lock</c> beside the file, so a command and a console edit made
/// at the same moment cannot each read the old file and lose the other's change. With an admin
/// store the change is recorded in the node's admin audit log (<c>admin.db</c>) with its actor
/// and what it changed, before and after; a refused change is recorded as refused.
/// </summary>
public sealed class NodeSettingsEditor(NodePaths paths, AuditedAccountStore? audit, TimeProvider timeProvider)
{
    /// <summary>How long an edit waits between two tries at the lock: another edit takes milliseconds.</summary>
    private static readonly TimeSpan LockRetry = TimeSpan.FromMilliseconds(25);

    /// <summary>How long an edit waits for another one to finish before it gives up.</summary>
    public static readonly TimeSpan LockPatience = TimeSpan.FromSeconds(10);

    public string LockPath => paths.Settings + ".lock";

    /// <summary>node.json as it is now (which the running node applies within its poll interval).</summary>
    /// <exception cref="NodeConfigurationException">The file is missing or invalid.</exception>
    public NodeSettings Read() => NodeSettings.Read(paths.Settings);

    /// <summary>
    /// Applies <paramref name="change"/> to node.json as it is now, as <paramref name="actor"/>
    /// (<c>console:NAME</c>, <c>cli:USER</c>) doing <paramref name="action"/> (<c>node.acl.allow</c> …).
    /// A change that leaves the file as it was writes nothing and records nothing.
    /// </summary>
    /// <returns>Whether node.json changed.</returns>
    /// <exception cref="NodeConfigurationException">
    /// The file is missing, the changed settings do not validate (nothing is written), or another
    /// edit held the lock for <see cref="LockPatience"/>.
    /// </exception>
    public async Task<bool> EditAsync(string actor, string action, Func<NodeSettings, NodeSettings> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
        NodeSettings before;
        NodeSettings after;
        try
        {
            before = NodeSettings.Read(paths.Settings);
            after = change(before);
            var problems = after.Validate().ToArray();
            if (problems.Length > 0)
            {
                throw new NodeConfigurationException(NodeErrors.SettingsInvalid, string.Join("; ", problems));
            }
        }
        catch (NodeConfigurationException ex)
        {
            audit?.RecordEvent(actor, action, false, ex.Code, new { message = ex.Message });
            throw;
        }

        var (removed, added) = Difference(before.ToJson(), after.ToJson());
        if (removed.Count == 0 && added.Count == 0)
        {
            return false;
        }

        if (audit is null)
        {
            after.Write(paths.Settings);
        }
        else
        {
            audit.RecordChange(actor, action, removed, added, () => after.Write(paths.Settings));
        }

        return true;
    }

    /// <summary>
    /// What changed, by top-level setting: for a list (clients, services, access rules) the
    /// entries that went and the entries that came, not the whole list; for a value, the value.
    /// </summary>
    internal static (JsonObject Removed, JsonObject Added) Difference(JsonObject before, JsonObject after)
    {
        var removed = new JsonObject();
        var added = new JsonObject();
        foreach (var name in before.Select(p => p.Key).Union(after.Select(p => p.Key)).ToArray())
        {
            var (old, now) = (before[name], after[name]);
            if (JsonNode.DeepEquals(old, now))
            {
                continue;
            }

            if (old is JsonArray oldItems && now is JsonArray newItems)
            {
                var gone = oldItems.Where(o => !newItems.Any(n => JsonNode.DeepEquals(o, n))).Select(o => o?.DeepClone()).ToArray();
                var came = newItems.Where(n => !oldItems.Any(o => JsonNode.DeepEquals(o, n))).Select(n => n?.DeepClone()).ToArray();
                if (gone.Length > 0)
                {
                    removed[name] = new JsonArray(gone);
                }

                if (came.Length > 0)
                {
                    added[name] = new JsonArray(came);
                }

                continue;
            }

            if (old is not null)
            {
                removed[name] = old.DeepClone();
            }

            if (now is not null)
            {
                added[name] = now.DeepClone();
            }
        }

        return (removed, added);
    }

    /// <summary>
    /// The exclusive lock: a file opened with no sharing, which .NET takes as an advisory
    /// <c>flock</c> on Unix, held by this process or the other until disposed (or the process ends).
    /// The open does not block when the lock is held (it fails at once), so waiting for it is a
    /// timer between tries, on <paramref name="cancellationToken"/> and the injected clock: no
    /// thread is held while a console request or a command waits for another edit.
    /// </summary>
    private async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        var deadline = timeProvider.GetUtcNow() + LockPatience;
        while (true)
        {
            try
            {
                // Empty, in the owner-only data folder: it holds nothing, only the lock.
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (DirectoryNotFoundException)
            {
                throw new NodeConfigurationException(NodeErrors.SettingsMissing, $"{paths.Settings} does not exist: run `xbus node init` first.");
            }
            catch (IOException ex) when (timeProvider.GetUtcNow() >= deadline)
            {
                throw new NodeConfigurationException(NodeErrors.SettingsBusy, $"{LockPath} stayed held by another edit of node.json for {LockPatience.TotalSeconds:0} s: {ex.Message}");
            }
            catch (IOException)
            {
                // Another edit holds it: try again shortly.
            }

            await Task.Delay(LockRetry, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
