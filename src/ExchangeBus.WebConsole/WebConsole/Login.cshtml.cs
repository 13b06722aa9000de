// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace ExchangeBus.WebConsole.Pages;

/// <summary>
/// Login by password, or by the client certificate the browser presented on this TLS connection
/// (the listener asks for one without requiring it). Both posts count against the login rate limit.
/// </summary>
[EnableRateLimiting(ConsoleLoginRateLimit.Policy)]
public sealed class LoginModel(ConsoleSignIn signIn, ConsoleCertificateSignIn certificateSignIn) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Name { get; private set; }

    public string? ErrorCode { get; private set; }

    /// <summary>The subject of the certificate the browser presented, if it did: the page then offers to sign in with it.</summary>
    public string? CertificateSubject { get; private set; }

    public async Task OnGetAsync() => CertificateSubject = (await HttpContext.Connection.GetClientCertificateAsync(HttpContext.RequestAborted))?.Subject;

    public async Task<IActionResult> OnPostAsync(string? name, string? password)
    {
        Name = name;
        return await CompleteAsync(signIn.SignIn(name, password));
    }

    public async Task<IActionResult> OnPostCertificateAsync()
    {
        var certificate = await HttpContext.Connection.GetClientCertificateAsync(HttpContext.RequestAborted);
        CertificateSubject = certificate?.Subject;
        return await CompleteAsync(
            await certificateSignIn.SignInAsync(certificate, HttpContext.TraceIdentifier, HttpContext.RequestAborted), certificate is null ? null : ConsoleAccount.Fingerprint(certificate));
    }

    private async Task<IActionResult> CompleteAsync(Accounts.SignInResult result, string? certificateSha256 = null)
    {
        if (!result.Succeeded)
        {
            ErrorCode = result.ErrorCode;
            CertificateSubject ??= HttpContext.Connection.ClientCertificate?.Subject;
            return Page();
        }

        await HttpContext.SignInAsync(ConsoleAuthentication.Scheme, ConsoleAuthentication.Principal(result.Account!, certificateSha256));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
