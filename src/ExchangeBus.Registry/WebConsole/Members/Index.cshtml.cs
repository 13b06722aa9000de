// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>Members, searched by identifier or name, a page at a time; and, for a registration officer, the form that adds one.</summary>
public sealed class MembersModel(RegistryStore store, IAuthorizationService authorization) : PageModel
{
    public ConsolePage<MemberInfo> Members { get; private set; } = ConsolePage<MemberInfo>.Of([], 1);

    public string Query { get; private set; } = string.Empty;

    public bool MayManage { get; private set; }

    public string? Done { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string? q, int page = 1, string? done = null, string? error = null)
    {
        Query = q?.Trim() is { Length: <= 255 } query ? query : string.Empty;
        Members = ConsoleOutcome.Page(page, (offset, limit) => store.SearchMembers(Query, offset, limit));
        (Done, Error) = (OutcomeQuery.Done(done), OutcomeQuery.Error(error));
        MayManage = (await authorization.AuthorizeAsync(User, RegistryConsolePolicies.ManageMembers)).Succeeded;
    }
}
