// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.WebConsole.Audit;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// A citizen's trail on this node: what <c>xbus audit trail</c> shows for one node, made by the
/// same <see cref="CitizenTrail"/> from the same records (a streamed call is one exchange).
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class TrailModel(NodeId node, SqliteMessageLog log, TimeProvider time) : PageModel
{
    public string? Subject { get; private set; }

    public AuditorWindow Window { get; private set; } = null!;

    public ConsolePage<TrailEntry> Trail { get; private set; } = ConsolePage<TrailEntry>.Of([], 1);

    public bool Truncated { get; private set; }

    public void OnGet(string? subject, DateOnly? from, DateOnly? to, int page = 1)
    {
        // A citizen's records span years: the trail reads a year unless told otherwise.
        Window = AuditorWindow.Of(from, to, time, defaultDays: 366);
        Subject = string.IsNullOrWhiteSpace(subject) ? null : subject.Trim();
        if (Subject is null)
        {
            return;
        }

        var (records, truncated) = Window.ReadAll(log.Reader, new MessageLogQuery { SubjectId = Subject });
        Truncated = truncated;
        Trail = ConsolePage<TrailEntry>.Of(CitizenTrail.Merge([new NodeRecords(node.ToString(), [.. records.Select(AuditEvidence.ToProto)])]), page);
    }
}
