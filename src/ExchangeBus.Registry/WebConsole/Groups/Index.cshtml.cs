// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>The global groups with how many members each has, a page at a time.</summary>
public sealed class GroupsModel(RegistryStore store) : PageModel
{
    public ConsolePage<GlobalGroupView> Groups { get; private set; } = ConsolePage<GlobalGroupView>.Of([], 1);

    public void OnGet(int page = 1) => Groups = ConsolePage<GlobalGroupView>.Of(store.ListGlobalGroups(), page);
}
