// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>A member: its name and state, its subsystems a page at a time, and for a registration officer the forms that change them.</summary>
public sealed class MemberDetailModel(RegistryStore store, IAuthorizationService authorization) : PageModel
{
    public string Id { get; private set; } = string.Empty;

    public MemberInfo? Member { get; private set; }

    public ConsolePage<SubsystemInfo> Subsystems { get; private set; } = ConsolePage<SubsystemInfo>.Of([], 1);

    public bool MayManage { get; private set; }

    public string? Done { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string member, int page = 1, string? done = null, string? error = null)
    {
        Id = member ?? string.Empty;
        Member = store.FindMember(Id);
        Subsystems = ConsolePage<SubsystemInfo>.Of((IReadOnlyList<SubsystemInfo>?)Member?.Subsystems ?? [], page);
        (Done, Error) = (OutcomeQuery.Done(done), OutcomeQuery.Error(error));
        MayManage = (await authorization.AuthorizeAsync(User, RegistryConsolePolicies.ManageMembers)).Succeeded;
    }
}
