// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.WebConsole.Pages;

/// <summary>POST only (with the antiforgery token), so a link on another site cannot sign anyone out.</summary>
public sealed class LogoutModel(IConsoleAccountStore store) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/");

    public async Task<IActionResult> OnPostAsync()
    {
        store.RecordEvent(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), "console.logout", true, string.Empty, null);
        await HttpContext.SignOutAsync(ConsoleAuthentication.Scheme);
        return LocalRedirect("/Login");
    }
}
