// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
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
/// Reconciling this node's log with another node's, with no key on the node: the auditor exports
/// a window's evidence bundle from the other node's console (<see cref="WindowBundleModel"/>) and
/// uploads it here; <see cref="BundleReconciliation"/> verifies it as <c>xbus audit verify-bundle</c>
/// does, against this node's anchor roots, and compares it with this node's own records of the
/// window by the same <see cref="Reconciliation.Compare"/> as <c>xbus audit reconcile</c>. Every
/// upload and its outcome is audited. The report shows counts, codes, message ids and sequences,
/// never a body or a citizen's id.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
[RequestSizeLimit(ReconcileModel.MaxRequestBytes)]
[RequestFormLimits(MultipartBodyLengthLimit = ReconcileModel.MaxRequestBytes)]
public sealed class ReconcileModel(
    NodeId node, GlobalConfigurationProvider configuration, SqliteMessageLog log, NodePaths paths, AuditedAccountStore accounts, TimeProvider time) : PageModel
{
    public const string Action = "messagelog.reconcile";

    /// <summary>
    /// The largest bundle an upload may be. A window's bundle has no bodies, a few KiB a record,
    /// and at most <see cref="AuditorWindow.MaxRecords"/> records: far below this.
    /// </summary>
    public const long MaxBundleBytes = 64L * 1024 * 1024;

    /// <summary>The request around it (the form's boundaries and token); past this the server answers 413 before the page runs.</summary>
    public const long MaxRequestBytes = MaxBundleBytes + (1024 * 1024);

    public AuditorWindow Window { get; private set; } = null!;

    public string ThisNode => node.ToString();

    /// <summary>The other nodes of the configuration, offered as the export's peer.</summary>
    public IReadOnlyList<string> OtherNodes { get; private set; } = [];

    public BundleReconcileResult? Result { get; private set; }

    public string? Error { get; private set; }

    public string? ErrorDetail { get; private set; }

    public void OnGet(DateOnly? from, DateOnly? to, string? error)
    {
        Prepare(from, to);
        Error = OutcomeQuery.Error(error);
    }

    public IActionResult OnPost(IFormFile? bundle)
    {
        Prepare(null, null);
        var actor = ConsoleAccount.Actor(ConsoleAuthentication.Name(User));
        try
        {
            if (bundle is null || bundle.Length == 0)
            {
                throw new ReconcileRefusedException(ReconcileErrors.BundleMissing, "Choose the bundle file to upload.");
            }

            if (bundle.Length > MaxBundleBytes)
            {
                throw new ReconcileRefusedException(ReconcileErrors.BundleTooLarge, $"A bundle uploaded here is at most {MaxBundleBytes} bytes.");
            }

            var roots = ConfigurationAnchor.Read(paths.Anchor).RegistryTlsTrustRoots;
            using var stream = bundle.OpenReadStream();
            Result = BundleReconciliation.Reconcile(stream, node, log.Reader, roots, time, AuditorWindow.MaxRecords);
            var report = Result.Report;
            accounts.RecordEvent(actor, Action, true, string.Empty, new
            {
                other = Result.OtherNode, from = Result.Window.From, to = Result.Window.To, records = Result.BundleRecords,
                report.Exchanges, report.Matched, report.Unanswered, report.FileDeliveries, report.FilesMatched, report.FilesUndelivered,
                differences = report.Differences.Select(d => new { d.MessageId, d.Code, d.Node, d.Sequence }),
            });
        }
        catch (ReconcileRefusedException ex)
        {
            (Error, ErrorDetail) = (ex.Code, ex.Message);
            accounts.RecordEvent(actor, Action, false, ex.Code, new { file = bundle?.FileName, bytes = bundle?.Length, detail = ex.Message });
        }

        return Page();
    }

    private void Prepare(DateOnly? from, DateOnly? to)
    {
        Window = AuditorWindow.Of(from, to, time, defaultDays: 1);
        var self = ThisNode;
        OtherNodes = configuration.Latest is { } view
            ? [.. view.Nodes.Select(n => n.Id.ToString()).Where(n => !string.Equals(n, self, StringComparison.Ordinal)).Order(StringComparer.Ordinal)]
            : [];
    }
}
