// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>The listed nodes (one per approved registration), a page at a time, each with its address and authentication certificate's fingerprint.</summary>
public sealed class NodesModel(RegistryStore store) : PageModel
{
    public ConsolePage<NodeInfo> Nodes { get; private set; } = ConsolePage<NodeInfo>.Of([], 1);

    public void OnGet(int page = 1) => Nodes = ConsolePage<NodeInfo>.Of(store.ListNodes(), page);
}
