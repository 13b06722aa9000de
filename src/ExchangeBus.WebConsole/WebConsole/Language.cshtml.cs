// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.WebConsole.Pages;

/// <summary>The language switch: a form post that keeps the choice in a cookie and goes back to the page it came from.</summary>
public sealed class LanguageModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/");

    public IActionResult OnPost(string? lang, string? returnUrl)
    {
        if (ConsoleLanguages.Parse(lang) is { } language)
        {
            Response.Cookies.Append(ConsoleLanguages.CookieName, ConsoleLanguages.Code(language), new CookieOptions
            {
                Secure = true,
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Path = "/",
                MaxAge = TimeSpan.FromDays(365),
                IsEssential = true,
            });
        }

        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl! : "/");
    }
}
