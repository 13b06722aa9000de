// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace ExchangeBus.WebConsole.Pages;

[EnableRateLimiting(ConsoleLoginRateLimit.Policy)]
public sealed class LoginModel(ConsoleSignIn signIn) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Name { get; private set; }

    public string? ErrorCode { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? name, string? password)
    {
        var result = signIn.SignIn(name, password);
        if (!result.Succeeded)
        {
            Name = name;
            ErrorCode = result.ErrorCode;
            return Page();
        }

        await HttpContext.SignInAsync(ConsoleAuthentication.Scheme, ConsoleAuthentication.Principal(result.Account!));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
