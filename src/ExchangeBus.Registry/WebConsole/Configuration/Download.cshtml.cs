// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Registry.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>
/// A kept configuration version as a file: the signed bytes as stored, the same serialized
/// SignedGlobalConfiguration nodes receive and keep (globalconf.bin), so it verifies with the anchor.
/// </summary>
public sealed class ConfigurationDownloadModel(RegistryStore store) : PageModel
{
    public IActionResult OnGet(ulong version) =>
        store.ReadSignedConfiguration(version) is { } signed
            ? File(signed, "application/octet-stream", $"globalconf-{store.Instance}-{version.ToString(CultureInfo.InvariantCulture)}.bin")
            : NotFound();
}
