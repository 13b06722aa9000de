// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>
/// What a node's console lets each role do, as authorization policies on the pages that act
/// (<c>[Authorize(Policy = …)]</c>), after X-Road's security server roles. Any signed-in account
/// reads the operator's pages (status, clients, services, keys, file sync); only auditors read
/// the message log, which names citizens, and they change nothing.
/// </summary>
public static class NodeConsolePolicies
{
    /// <summary>Clients, services, backends and access rules: service administrators.</summary>
    public const string ManageServices = "Node.ManageServices";

    /// <summary>Keys and certificates: security officers.</summary>
    public const string ManageKeys = "Node.ManageKeys";

    /// <summary>The node itself (file sync retries, settings): system administrators.</summary>
    public const string ManageSystem = "Node.ManageSystem";

    /// <summary>The message log: its trail, queries, records, verification, bundles, reconciliation.</summary>
    public const string Audit = "Node.Audit";

    public static AuthorizationBuilder AddNodePolicies(this AuthorizationBuilder builder) => builder
        .AddRolePolicy(ManageServices, ConsoleRole.ServiceAdministrator)
        .AddRolePolicy(ManageKeys, ConsoleRole.SecurityOfficer)
        .AddRolePolicy(ManageSystem, ConsoleRole.SystemAdministrator)
        .AddRolePolicy(Audit, ConsoleRole.Auditor);
}
