// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Registry.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>What the central authority looks at first: how many members and nodes, what waits for a decision, the configuration in force.</summary>
public sealed class DashboardModel(RegistryStore store) : PageModel
{
    public int Members { get; private set; }

    public int Nodes { get; private set; }

    public int Pending { get; private set; }

    public GlobalConfigurationView? Configuration { get; private set; }

    public void OnGet()
    {
        Members = store.ListMembers().Count;
        Nodes = store.ListNodes().Count;
        Pending = store.ListRegistrations([RegistrationState.Pending]).Count;
        Configuration = store.CurrentView();
    }
}
