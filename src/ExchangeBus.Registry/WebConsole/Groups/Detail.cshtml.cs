// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>A global group's members, a page at a time; and, for a registration officer, the forms that add and remove one.</summary>
public sealed class GroupDetailModel(RegistryStore store, IAuthorizationService authorization) : PageModel
{
    public string Group { get; private set; } = string.Empty;

    public ConsolePage<string>? Members { get; private set; }

    public bool MayManage { get; private set; }

    public string? Done { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string group, int page = 1, string? done = null, string? error = null)
    {
        Group = group ?? string.Empty;
        Members = store.GlobalGroupMembers(Group) is { } members ? ConsolePage<string>.Of(members, page) : null;
        (Done, Error) = (OutcomeQuery.Done(done), OutcomeQuery.Error(error));
        MayManage = (await authorization.AuthorizeAsync(User, RegistryConsolePolicies.ManageGlobalGroups)).Succeeded;
    }
}
