// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The access rules in node.json, by service then subject, a page at a time; the forms to add
/// and remove one for service administrators (<see cref="AccessRuleChangeModel"/> checks again).
/// </summary>
public sealed class AccessRulesModel(NodeSettingsEditor settings, IAuthorizationService authorization) : PageModel
{
    public ConsolePage<AccessRule> Rules { get; private set; } = ConsolePage<AccessRule>.Of([], 1);

    /// <summary>The node's services, offered in the add form.</summary>
    public IReadOnlyList<string> Services { get; private set; } = [];

    /// <summary>Whether to show the forms; the change page checks the policy again on the server.</summary>
    public bool MayChange { get; private set; }

    public async Task OnGetAsync(int page = 1)
    {
        var current = settings.Read();
        Rules = ConsolePage<AccessRule>.Of(
            [.. current.AccessRules.OrderBy(r => r.Service, StringComparer.Ordinal).ThenBy(r => r.Subject, StringComparer.Ordinal)], page);
        Services = [.. current.Services.Select(s => s.Service).Order(StringComparer.Ordinal)];
        MayChange = (await authorization.AuthorizeAsync(User, NodeConsolePolicies.ManageServices)).Succeeded;
    }
}
