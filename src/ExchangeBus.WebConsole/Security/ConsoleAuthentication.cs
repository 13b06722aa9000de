// SPDX-License-Identifier: Apache-2.0
using System.Security.Claims;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace ExchangeBus.WebConsole.Security;

/// <summary>The console's session cookie and the principal it carries.</summary>
public static class ConsoleAuthentication
{
    public const string Scheme = "ExchangeBus.WebConsole";

    /// <summary><c>__Host-</c>: the browser keeps it only if Secure, for this origin and path "/".</summary>
    public const string CookieName = "__Host-xbus-console";

    /// <summary>On a session begun with a client certificate: the certificate's <see cref="ConsoleAccount.Fingerprint"/>.</summary>
    public const string CertificateClaim = "xbus:certificate-sha256";

    /// <param name="account">The account signed in.</param>
    /// <param name="certificateSha256">The certificate it signed in with, if it did: the session then lasts only while that certificate does.</param>
    public static ClaimsPrincipal Principal(ConsoleAccount account, string? certificateSha256 = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        var identity = new ClaimsIdentity(Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, account.Name));
        if (certificateSha256 is not null)
        {
            identity.AddClaim(new Claim(CertificateClaim, certificateSha256));
        }

        foreach (var role in account.Roles)
        {
            identity.AddClaim(new Claim(ClaimTypes.Role, ConsoleRoles.Name(role)));
        }

        return new ClaimsPrincipal(identity);
    }

    /// <summary>The account name of the person signed in; the audit log's actor is <see cref="ConsoleAccount.Actor"/> of it.</summary>
    public static string Name(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.Name ?? throw new InvalidOperationException("No one is signed in.");
    }

    /// <summary>
    /// On every request the account is read again: a deleted or locked account loses its session
    /// at once, and changed roles apply to the next request, not at the next login. A session
    /// begun with a certificate also needs, on every request, that certificate on the connection,
    /// still bound to the account and still accepted by the component (a revocation ends it at
    /// once, as the management API checks a certificate on every call).
    /// </summary>
    internal static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var store = context.HttpContext.RequestServices.GetRequiredService<IConsoleAccountStore>();
        var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
        var name = context.Principal?.Identity?.Name;
        var account = name is null ? null : store.FindAccount(name);
        var certificate = context.Principal!.FindFirst(CertificateClaim)?.Value;
        if (account is null || account.IsLockedAt(time.GetUtcNow())
            || (certificate is not null && !await CertificateStillHoldsAsync(context.HttpContext, account, certificate).ConfigureAwait(false)))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
            return;
        }

        var held = context.Principal!.FindAll(ClaimTypes.Role).Select(c => c.Value).Order(StringComparer.Ordinal);
        var current = account.Roles.Select(ConsoleRoles.Name).Order(StringComparer.Ordinal);
        if (!held.SequenceEqual(current))
        {
            context.ReplacePrincipal(Principal(account, certificate));
            context.ShouldRenew = true;
        }
    }

    private static async Task<bool> CertificateStillHoldsAsync(HttpContext http, ConsoleAccount account, string fingerprint)
    {
        var presented = http.Connection.ClientCertificate;
        return presented is not null
            && string.Equals(account.CertificateSha256, fingerprint, StringComparison.Ordinal)
            && string.Equals(ConsoleAccount.Fingerprint(presented), fingerprint, StringComparison.Ordinal)
            && await http.RequestServices.GetRequiredService<IConsoleCertificateCheck>().CheckAsync(presented, http.RequestAborted).ConfigureAwait(false)
                == ConsoleCertificateStatus.Accepted;
    }
}
