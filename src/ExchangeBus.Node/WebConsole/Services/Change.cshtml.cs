// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Adds a service, changes its backend, or removes it: service administrators only, checked on
/// the server. Audited as <c>node.service.add</c> / <c>node.service.remove</c>, like
/// <c>xbus node service add|remove</c>. Changing a service keeps what the form does not show
/// (its description, body and message limits, its transparent gRPC service while it stays gRPC).
/// </summary>
[Authorize(Policy = NodeConsolePolicies.ManageServices)]
public sealed class ServiceChangeModel(NodeSettingsEditor settings) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Services");

    public Task<IActionResult> OnPostAsync(string? operation, string? service, string? kind, string? address, string? method, int timeoutMs, bool logBodies)
    {
        var id = SettingsChange.Field(service) ?? string.Empty;
        if (operation == "remove")
        {
            return SettingsChange.ApplyAsync(this, settings, "/Services", "node.service.remove", s => s.WithoutService(id));
        }

        return SettingsChange.ApplyAsync(this, settings, "/Services", "node.service.add", s =>
        {
            var backendKind = Enum.TryParse<BackendKind>(kind, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new NodeConfigurationException(NodeErrors.SettingsInvalid, "The backend kind is grpc, http or rest.");
            var existing = s.Services.FirstOrDefault(x => x.Service == id);
            var backend = new BackendSettings { Kind = backendKind, Address = SettingsChange.Field(address) ?? string.Empty };
            return s.WithService(existing is null
                ? new ServiceSettings { Service = id, Backend = backend with { Method = SettingsChange.Field(method), TimeoutMilliseconds = timeoutMs }, LogBodies = logBodies }
                : existing with
                {
                    LogBodies = logBodies,
                    Backend = existing.Backend with
                    {
                        Kind = backendKind,
                        Address = backend.Address,
                        Method = SettingsChange.Field(method),
                        TimeoutMilliseconds = timeoutMs,
                        GrpcService = backendKind == BackendKind.Grpc ? existing.Backend.GrpcService : null,
                    },
                });
        });
    }
}
