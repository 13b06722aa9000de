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

    public static ClaimsPrincipal Principal(ConsoleAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        var identity = new ClaimsIdentity(Scheme, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, account.Name));
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
    /// at once, and changed roles apply to the next request, not at the next login.
    /// </summary>
    internal static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var store = context.HttpContext.RequestServices.GetRequiredService<IConsoleAccountStore>();
        var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
        var name = context.Principal?.Identity?.Name;
        var account = name is null ? null : store.FindAccount(name);
        if (account is null || account.IsLockedAt(time.GetUtcNow()))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
            return;
        }

        var held = context.Principal!.FindAll(ClaimTypes.Role).Select(c => c.Value).Order(StringComparer.Ordinal);
        var current = account.Roles.Select(ConsoleRoles.Name).Order(StringComparer.Ordinal);
        if (!held.SequenceEqual(current))
        {
            context.ReplacePrincipal(Principal(account));
            context.ShouldRenew = true;
        }
    }
}
