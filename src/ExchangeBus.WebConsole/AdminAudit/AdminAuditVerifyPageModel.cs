// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Localization;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.WebConsole.AdminAudit;

/// <summary>
/// Recomputes the admin audit log's hash chain from the first entry (<see cref="AdminAuditLog.Verify"/>,
/// as <c>xbus registry|node audit-log verify</c>) and shows the result with the
/// <c>_AdminAuditVerification</c> partial. A POST, since it reads the whole log; the component's
/// page derives from this with the <c>[Authorize]</c> of those who may. Each run is itself an
/// entry (<see cref="Action"/>, with its outcome, <see cref="AuditedAccountStore.VerifyRecorded"/>),
/// so the log shows who checked it and what they saw.
/// </summary>
public abstract class AdminAuditVerifyPageModel(AuditedAccountStore log) : PageModel
{
    public const string Action = "auditLog.verify";

    public AuditVerification? Result { get; private set; }

    public IActionResult OnGet() => RedirectToPage("Index");

    public void OnPost()
    {
        ViewData["Title"] = AdminAuditText.For(HttpContext).VerifyChain;
        Result = log.VerifyRecorded(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), Action);
    }
}
