// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>
/// The kept configuration versions, newest first, each downloadable as signed; and the
/// configuration anchor's fingerprint, the figure <c>xbus registry anchor export</c> prints and
/// a node's operator checks out of band (it covers the instance, the registry's address and the
/// certificates a node trusts, not when the anchor file was written).
/// </summary>
public sealed class ConfigurationModel(RegistryStore store, RegistryKeys keys, TimeProvider time) : PageModel
{
    public ConsolePage<ConfigurationVersionView> Versions { get; private set; } = ConsolePage<ConfigurationVersionView>.Of([], 1);

    public ConfigurationAnchor? Anchor { get; private set; }

    public void OnGet(int page = 1)
    {
        Versions = ConsoleOutcome.Page(page, store.ListConfigurations);
        // The address the configuration publishes is the one `anchor export` writes by default.
        if (store.CurrentView() is { RegistryAddress.Length: > 0 } view)
        {
            Anchor = ConfigurationAnchor.Create(store.Instance, view.RegistryAddress, [keys.ConfigurationSigning], [keys.RootCertificate], time.GetUtcNow(), [keys.Tls], view.RegistryAddresses.Skip(1));
        }
    }
}
