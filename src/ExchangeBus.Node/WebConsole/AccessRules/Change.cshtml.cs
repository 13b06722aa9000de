// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Adds or removes an access rule: service administrators only, checked here on the server
/// whatever the form looked like. The same change as <c>xbus node acl allow|deny</c>, audited as
/// <c>node.acl.allow</c> / <c>node.acl.deny</c>; the running node obeys it from its next poll.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.ManageServices)]
public sealed class AccessRuleChangeModel(NodeSettingsEditor settings) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/AccessRules");

    public Task<IActionResult> OnPostAsync(string? operation, string? service, string? subject)
    {
        var rule = new AccessRule { Service = SettingsChange.Field(service) ?? string.Empty, Subject = SettingsChange.Field(subject) ?? string.Empty };
        return operation == "remove"
            ? SettingsChange.ApplyAsync(this, settings, "/AccessRules", "node.acl.deny", s => s.WithoutRule(rule))
            : SettingsChange.ApplyAsync(this, settings, "/AccessRules", "node.acl.allow", s => s.WithRule(rule));
    }
}
