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
/// Revokes a certificate with an RFC 5280 reason: security officers only, checked here on the
/// server. The store call <c>xbus registry cert revoke</c> makes through the management API,
/// with the person's account as the actor: OCSP answers revoked at once, and the configuration
/// published with the change leaves out a node, responder or TSA holding it.
/// </summary>
[Authorize(Policy = RegistryConsolePolicies.RevokeCertificates)]
public sealed class RevokeModel(RegistryStore store) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Certificates");

    public IActionResult OnPost(string? serial, string? reason)
    {
        serial = serial?.Trim() ?? string.Empty;
        try
        {
            store.RevokeCertificate(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), serial, reason?.Trim() ?? string.Empty);
        }
        catch (RegistryException ex)
        {
            return Back(serial, error: ex.Code);
        }

        return Back(serial, done: "revoked");
    }

    private static LocalRedirectResult Back(string serial, string? done = null, string? error = null) =>
        OutcomeQuery.Back("/Certificates/Detail", new Dictionary<string, string?> { ["serial"] = serial, ["done"] = done, ["error"] = error });
}
