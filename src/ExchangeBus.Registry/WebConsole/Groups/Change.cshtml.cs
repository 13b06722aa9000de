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
/// Adds a member (or subsystem) to a global group or removes one: registration officers only,
/// checked here on the server. The store call of <c>xbus registry group add-member|remove-member</c>, audited.
/// </summary>
[Authorize(Policy = RegistryConsolePolicies.ManageGlobalGroups)]
public sealed class GroupChangeModel(RegistryStore store) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Groups");

    public IActionResult OnPost(string? group, string? member, bool present)
    {
        group ??= string.Empty;
        try
        {
            store.SetGlobalGroupMember(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), group, member?.Trim() ?? string.Empty, present);
        }
        catch (RegistryException ex)
        {
            return Back(group, error: ex.Code);
        }

        return Back(group, done: present ? "added" : "removed");
    }

    private static LocalRedirectResult Back(string group, string? done = null, string? error = null) =>
        OutcomeQuery.Back("/Groups/Detail", new Dictionary<string, string?> { ["group"] = group, ["done"] = done, ["error"] = error });
}
