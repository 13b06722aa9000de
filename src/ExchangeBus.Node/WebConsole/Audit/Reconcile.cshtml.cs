// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.WebConsole.Audit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Reconciling two nodes' logs (<c>xbus audit reconcile</c>) reads both through their audit
/// APIs with an auditor's own certificate and key; the node holds neither (its audit API answers
/// auditor certificates only), so it cannot do it itself. The page writes the command for the
/// auditor to run, with this node's address filled in, and shows this node's latest signed tree
/// head to compare with what the command reads.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class ReconcileModel(NodeId node, GlobalConfigurationProvider configuration, SqliteMessageLog log, TimeProvider time) : PageModel
{
    public string? Other { get; private set; }

    public AuditorWindow Window { get; private set; } = null!;

    public string? Command { get; private set; }

    public StoredTreeHead? LatestHead { get; private set; }

    public void OnGet(string? other, DateOnly? from, DateOnly? to)
    {
        Window = AuditorWindow.Of(from, to, time, defaultDays: 1);
        LatestHead = log.Reader.LatestTreeHead();
        Other = string.IsNullOrWhiteSpace(other) ? null : other.Trim();
        if (Other is null)
        {
            return;
        }

        var address = configuration.Latest?.FindNode(node)?.Address ?? "https://THIS-NODE:PORT";
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            address = "https://" + address;
        }

        Command = $"xbus audit reconcile --node {Quote(address)} --node {Quote(Other)} --from {Window.Start.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} --to {Window.End.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} --auditor AUDITOR-FOLDER --anchor anchor.json";
    }

    /// <summary>Single-quoted for a POSIX shell: whatever the person typed stays one argument and runs nothing.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
