// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Adds (or replaces) or removes a client subsystem: service administrators only, checked on the
/// server. The same change as <c>xbus node client add|remove</c>, audited as
/// <c>node.client.add</c> / <c>node.client.remove</c>.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.ManageServices)]
public sealed class ClientChangeModel(NodeSettingsEditor settings) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Clients");

    public Task<IActionResult> OnPostAsync(string? operation, string? subsystem, string? tlsPin, bool logBodies)
    {
        var id = SettingsChange.Field(subsystem) ?? string.Empty;
        return operation == "remove"
            ? SettingsChange.ApplyAsync(this, settings, "/Clients", "node.client.remove", s => s.WithoutClient(id))
            : SettingsChange.ApplyAsync(this, settings, "/Clients", "node.client.add", s => s.WithClient(new ClientSettings
            {
                Subsystem = id,
                TlsCertificateSha256 = SettingsChange.Field(tlsPin)?.ToUpperInvariant(),
                LogBodies = logBodies,
            }));
    }
}
