// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>The member classes (GOV, COM …) with how many members each has; and, for a system administrator, the form that adds one.</summary>
public sealed class MemberClassesModel(RegistryStore store, IAuthorizationService authorization) : PageModel
{
    public ConsolePage<MemberClassView> Classes { get; private set; } = ConsolePage<MemberClassView>.Of([], 1);

    public bool MayManage { get; private set; }

    public string? Done { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(int page = 1, string? done = null, string? error = null)
    {
        Classes = ConsolePage<MemberClassView>.Of(store.ListMemberClasses(), page);
        (Done, Error) = (OutcomeQuery.Done(done), OutcomeQuery.Error(error));
        MayManage = (await authorization.AuthorizeAsync(User, RegistryConsolePolicies.ManageMemberClasses)).Succeeded;
    }
}
