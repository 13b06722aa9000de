// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.WebConsole.Audit;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The evidence bundle of one exchange, as a download: the records of the message id with their
/// evidence (the audit API's GetRecord, <see cref="AuditEvidence"/>) through the same
/// <see cref="EvidenceBundle.Build"/> as <c>xbus audit export --anchor DATA/anchor.json</c>, so the
/// same bytes, which <c>xbus audit verify-bundle</c> accepts. Every export is audited: who took
/// which exchange's evidence (bodies included, personal data) out of the node.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class BundleModel(SqliteMessageLog log, NodePaths paths, AuditedAccountStore accounts) : PageModel
{
    public const string Action = "messagelog.bundle";

    public IActionResult OnGet(string? messageId)
    {
        messageId = messageId?.Trim() ?? string.Empty;
        var actor = ConsoleAccount.Actor(ConsoleAuthentication.Name(User));
        var sequences = messageId.Length == 0 ? [] : Sequences(messageId);
        if (sequences.Count == 0)
        {
            accounts.RecordEvent(actor, Action, false, AuditErrors.RecordNotFound, new { messageId });
            return NotFound();
        }

        var evidence = sequences.Select(s => AuditEvidence.ToProto(log.Reader.GetEvidence(s)!, log.Reader)).ToList();
        if (evidence.Any(e => e.TreeHead is null))
        {
            accounts.RecordEvent(actor, Action, false, EvidenceBundleErrors.NotTimeStamped, new { messageId });
            return LocalRedirect($"/Audit/Record?sequence={sequences[0]}&error={EvidenceBundleErrors.NotTimeStamped}");
        }

        var roots = ConfigurationAnchor.Read(paths.Anchor).RegistryTlsTrustRoots;
        var bundle = EvidenceBundle.Build(evidence, roots);
        accounts.RecordEvent(actor, Action, true, string.Empty, new { messageId, records = sequences });
        Response.Headers.CacheControl = "no-store";
        return File(bundle, "application/zip", "evidence-" + BundleFileName.Of(messageId) + ".zip");
    }

    /// <summary>Every record of the exchange, as <c>xbus audit export --message-id</c> asks for them.</summary>
    private List<long> Sequences(string messageId)
    {
        var query = new MessageLogQuery { MessageId = messageId, PageSize = MessageLogQuery.MaxPageSize };
        var sequences = new List<long>();
        while (sequences.Count < AuditorWindow.MaxRecords)
        {
            var page = log.Reader.Query(query);
            sequences.AddRange(page.Records.Select(r => r.Sequence));
            if (page.Next is not { } next)
            {
                break;
            }

            query = query with { After = next };
        }

        sequences.Sort();
        return sequences;
    }
}
