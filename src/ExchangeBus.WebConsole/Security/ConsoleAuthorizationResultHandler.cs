// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ExchangeBus.WebConsole.Security;

/// <summary>
/// A signed-in person refused by a page's policy gets 403 with <see cref="ConsoleErrors.Forbidden"/>
/// (not the cookie handler's redirect to an "access denied" page, which would answer 302 and hide
/// the refusal), and the refusal is written to the audit log with their account. Everything else
/// (a challenge to sign in, success) is the framework's default.
/// </summary>
internal sealed class ConsoleAuthorizationResultHandler(IConsoleAccountStore store) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden || context.User.Identity?.IsAuthenticated != true)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
            return;
        }

        var page = context.GetEndpoint()?.DisplayName ?? context.Request.Path.Value ?? string.Empty;
        store.RecordEvent(ConsoleAccount.Actor(ConsoleAuthentication.Name(context.User)), "console.forbidden", false, ConsoleErrors.Forbidden,
            new { page, method = context.Request.Method });
        await ConsoleErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, ConsoleErrors.Forbidden).ConfigureAwait(false);
    }
}
