// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Has the node time-stamp its log now, through its last record (what <c>xbus audit stamp</c>
/// asks over the audit API): a round of the node's own stamper, so a record just written can be
/// exported at once. Audited; then back to the record.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class StampModel(SqliteMessageLog log, TreeHeadStamper stamper, AuditedAccountStore accounts, IHostApplicationLifetime lifetime) : PageModel
{
    public const string Action = "messagelog.stamp";

    public IActionResult OnGet() => LocalRedirect("/Audit/Query");

    public async Task<IActionResult> OnPostAsync(long sequence)
    {
        var through = log.LastSequence();
        string? failure = through == 0 ? AuditErrors.NothingToStamp : null;
        if (failure is null)
        {
            // Not cut short by the browser going away: a head made is a head kept (as the audit API's StampTreeHead).
            var round = await stamper.StampThroughAsync(through, lifetime.ApplicationStopping).ConfigureAwait(false);
            failure = round.Failure is null && log.Reader.LatestTreeHead() is { } head && head.TreeSize >= through ? null : AuditErrors.TimeStampingFailed;
        }

        accounts.RecordEvent(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), Action, failure is null, failure ?? string.Empty, new { through });
        return LocalRedirect($"/Audit/Record?sequence={sequence}&" + (failure is null ? "done=stamped" : "error=" + Uri.EscapeDataString(failure)));
    }
}
