// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.WebConsole;

/// <summary>
/// What the central authority's console lets each role do, as authorization policies on the
/// pages that act (<c>[Authorize(Policy = …)]</c>). Reading needs only a signed-in account.
/// </summary>
public static class RegistryConsolePolicies
{
    /// <summary>Approve or refuse a node's registration: registration officers.</summary>
    public const string DecideRegistrations = "Registry.DecideRegistrations";
}
