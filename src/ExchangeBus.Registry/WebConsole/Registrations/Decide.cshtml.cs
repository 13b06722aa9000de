// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Errors;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>
/// Approves or refuses a registration: registration officers only, checked here on the server
/// whatever the form looked like. The decision is the same store call the management API makes
/// for <c>xbus registry registration approve|refuse</c>, with the person's account as the actor;
/// it writes the audit entry, accepted or refused. Then back to the registration (post, redirect, get).
/// </summary>
[Authorize(Policy = RegistryConsolePolicies.DecideRegistrations)]
public sealed class DecideModel(RegistryStore store) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Registrations");

    public IActionResult OnPost(string id, string decision, string? reason, string? fingerprint)
    {
        var approve = decision == "approve";
        reason = reason?.Trim() ?? string.Empty;
        if (!approve && reason.Length == 0)
        {
            return Back(id, error: RegistrationDetailModel.ReasonRequired);
        }

        try
        {
            store.Decide(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), id ?? string.Empty, approve, reason, fingerprint?.Trim() ?? string.Empty);
        }
        catch (RegistryException ex)
        {
            return Back(id, error: ex.Code);
        }

        return Back(id, done: approve ? "approved" : "refused");
    }

    private static LocalRedirectResult Back(string? id, string? done = null, string? error = null) =>
        OutcomeQuery.Back("/Registrations/Detail", new Dictionary<string, string?> { ["id"] = id ?? string.Empty, ["done"] = done, ["error"] = error });
}
