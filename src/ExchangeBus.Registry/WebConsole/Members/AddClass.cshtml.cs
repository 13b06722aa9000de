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
/// Adds a member class: system administrators only (a setting of the whole instance, as in
/// X-Road's system settings). The store call of <c>xbus registry member-class add</c>, audited.
/// </summary>
[Authorize(Policy = RegistryConsolePolicies.ManageMemberClasses)]
public sealed class AddMemberClassModel(RegistryStore store) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Members/Classes");

    public IActionResult OnPost(string? code, string? description)
    {
        try
        {
            store.AddMemberClass(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), code?.Trim() ?? string.Empty, description?.Trim() ?? string.Empty);
        }
        catch (RegistryException ex)
        {
            return OutcomeQuery.Back("/Members/Classes", new Dictionary<string, string?> { ["error"] = ex.Code });
        }

        return OutcomeQuery.Back("/Members/Classes", new Dictionary<string, string?> { ["done"] = "added" });
    }
}
