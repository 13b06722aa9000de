// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Registry.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>
/// Recomputes the admin audit log's hash chain from the first entry (AdminAuditLog's
/// verification, as <c>xbus registry audit-log verify</c>) and shows the result. A POST behind a
/// policy because it reads the whole log: auditors, security officers, system administrators.
/// </summary>
[Authorize(Policy = RegistryConsolePolicies.VerifyAuditLog)]
public sealed class VerifyAuditLogModel(RegistryStore store) : PageModel
{
    public AuditVerification? Result { get; private set; }

    public IActionResult OnGet() => LocalRedirect("/AuditLog");

    public void OnPost() => Result = store.VerifyAuditLog();
}
