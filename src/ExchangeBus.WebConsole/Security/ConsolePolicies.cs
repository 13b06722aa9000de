// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.WebConsole.Security;

/// <summary>
/// The authorization policies pages name. Every console page needs <see cref="SignedIn"/>
/// (a convention on the whole root folder); a page that changes something names a policy
/// that requires the roles allowed to do it, made with <see cref="AddRolePolicy"/>.
/// </summary>
public static class ConsolePolicies
{
    public const string SignedIn = "Console.SignedIn";

    public static AuthorizationBuilder AddRolePolicy(this AuthorizationBuilder builder, string name, params ConsoleRole[] roles)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddPolicy(name, policy => policy
            .AddAuthenticationSchemes(ConsoleAuthentication.Scheme)
            .RequireAuthenticatedUser()
            .RequireRole(roles.Select(ConsoleRoles.Name)));
    }
}
