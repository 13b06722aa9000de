// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The agency's subsystems registered as clients in node.json, with the TLS certificate each
/// must present on the local TLS listener and whether their bodies are logged; the forms to add
/// (or change) and remove one for service administrators (<see cref="ClientChangeModel"/> checks again).
/// </summary>
public sealed class ClientsModel(NodeSettingsEditor settings, IAuthorizationService authorization) : PageModel
{
    public ConsolePage<ClientSettings> Clients { get; private set; } = ConsolePage<ClientSettings>.Of([], 1);

    public bool MayChange { get; private set; }

    public async Task OnGetAsync(int page = 1)
    {
        Clients = ConsolePage<ClientSettings>.Of([.. settings.Read().Clients.OrderBy(c => c.Subsystem, StringComparer.Ordinal)], page);
        MayChange = (await authorization.AuthorizeAsync(User, NodeConsolePolicies.ManageServices)).Succeeded;
    }
}
