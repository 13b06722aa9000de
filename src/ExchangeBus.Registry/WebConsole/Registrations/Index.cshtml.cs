// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>The registrations waiting for a decision, oldest first, a page at a time.</summary>
public sealed class RegistrationsModel(RegistryStore store) : PageModel
{
    public ConsolePage<RegistrationInfo> Registrations { get; private set; } = ConsolePage<RegistrationInfo>.Of([], 1);

    public void OnGet(int page = 1) => Registrations = ConsolePage<RegistrationInfo>.Of(store.ListRegistrations([RegistrationState.Pending]), page);
}
