// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.WebConsole.Audit;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// A window's evidence bundle of this node's log, as a download, for reconciling on another
/// node (<see cref="ReconcileModel"/>): the records of exchanges and file deliveries with the
/// node named (or any) that began in the days chosen (<see cref="LogWindow"/>, at most
/// <see cref="AuditorWindow.MaxRecords"/>), without bodies (<see cref="EvidenceBundle.BuildWindow"/>).
/// A POST because it may change something: records not yet under a time-stamped head are
/// stamped first, by a round of the node's own stamper (as "Time-stamp now"). Audited.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class WindowBundleModel(
    NodeId node, SqliteMessageLog log, TreeHeadStamper stamper, NodePaths paths, AuditedAccountStore accounts, TimeProvider time, IHostApplicationLifetime lifetime) : PageModel
{
    public const string Action = "messagelog.bundle.window";

    public IActionResult OnGet() => LocalRedirect("/Audit/Reconcile");

    public async Task<IActionResult> OnPostAsync(DateOnly? from, DateOnly? to, string? peer)
    {
        var days = AuditorWindow.Of(from, to, time, defaultDays: 1);
        var window = new BundleWindow(days.Start, days.End, string.IsNullOrWhiteSpace(peer) ? null : peer.Trim());
        var actor = ConsoleAccount.Actor(ConsoleAuthentication.Name(User));
        var details = new { from = window.From, to = window.To, peer = window.Peer };
        try
        {
            var records = LogWindow.Read(log.Reader, window, AuditorWindow.MaxRecords);
            if (records.Count == 0)
            {
                throw new ReconcileRefusedException(ReconcileErrors.WindowEmpty, "The window holds no record of an exchange.");
            }

            var evidence = LogWindow.Evidence(log.Reader, records);
            if (evidence.Any(e => e.TreeHead is null))
            {
                // Not cut short by the browser going away: a head made is a head kept (as the Stamp page).
                var round = await stamper.StampThroughAsync(records.Max(r => r.Sequence), lifetime.ApplicationStopping).ConfigureAwait(false);
                evidence = round.Failure is null ? LogWindow.Evidence(log.Reader, records) : evidence;
                if (evidence.Any(e => e.TreeHead is null))
                {
                    throw new ReconcileRefusedException(EvidenceBundleErrors.NotTimeStamped, "The records could not be time-stamped now; try again later.");
                }
            }

            var bundle = EvidenceBundle.BuildWindow(evidence, ConfigurationAnchor.Read(paths.Anchor).RegistryTlsTrustRoots, window);
            accounts.RecordEvent(actor, Action, true, string.Empty, new { details.from, details.to, details.peer, records = records.Count });
            Response.Headers.CacheControl = "no-store";
            var name = string.Create(CultureInfo.InvariantCulture, $"evidence-{BundleFileName.Of(node.ToString())}-{days.From:yyyyMMdd}-{days.To:yyyyMMdd}.zip");
            return File(bundle, "application/zip", name);
        }
        catch (ReconcileRefusedException ex)
        {
            accounts.RecordEvent(actor, Action, false, ex.Code, details);
            return OutcomeQuery.Back("/Audit/Reconcile", new Dictionary<string, string?>
            {
                ["from"] = days.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["to"] = days.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["error"] = ex.Code,
            });
        }
    }
}
