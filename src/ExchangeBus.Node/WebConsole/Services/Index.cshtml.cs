// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The services node.json provides, with their backends (kind, address, gRPC method, timeout) and
/// whether their bodies are logged; for service administrators the forms to add a service, change
/// its backend (<c>?edit=</c> fills the form with the service's values) or remove it
/// (<see cref="ServiceChangeModel"/> checks again).
/// </summary>
public sealed class ServicesModel(NodeSettingsEditor settings, IAuthorizationService authorization) : PageModel
{
    public ConsolePage<ServiceSettings> Services { get; private set; } = ConsolePage<ServiceSettings>.Of([], 1);

    /// <summary>The service whose values fill the form, when one is being changed.</summary>
    public ServiceSettings? Editing { get; private set; }

    public bool MayChange { get; private set; }

    public async Task OnGetAsync(int page = 1, string? edit = null)
    {
        var services = settings.Read().Services;
        Services = ConsolePage<ServiceSettings>.Of([.. services.OrderBy(s => s.Service, StringComparer.Ordinal)], page);
        Editing = edit is null ? null : services.FirstOrDefault(s => s.Service == edit);
        MayChange = (await authorization.AuthorizeAsync(User, NodeConsolePolicies.ManageServices)).Succeeded;
    }
}
