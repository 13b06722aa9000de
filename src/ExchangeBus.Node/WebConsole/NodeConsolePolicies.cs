// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>
/// What a node's console lets each role do, as authorization policies on the pages that act
/// (<c>[Authorize(Policy = …)]</c>), after X-Road's security server roles. Any signed-in account
/// reads the operator's pages (status, clients, services, keys, file sync); only auditors read
/// the message log, which names citizens, and they change nothing; auditors and system
/// administrators read the admin audit log.
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

    /// <summary>
    /// The node's admin audit log (admin.db), read and verified: auditors, whose work it is, and
    /// system administrators, who answer for the node. Not every account, as on the registry:
    /// it names every account, its logins and lockouts, and what each person changed.
    /// </summary>
    public const string AdminAuditLog = "Node.AdminAuditLog";

    public static AuthorizationBuilder AddNodePolicies(this AuthorizationBuilder builder) => builder
        .AddRolePolicy(ManageServices, ConsoleRole.ServiceAdministrator)
        .AddRolePolicy(ManageKeys, ConsoleRole.SecurityOfficer)
        .AddRolePolicy(ManageSystem, ConsoleRole.SystemAdministrator)
        .AddRolePolicy(Audit, ConsoleRole.Auditor)
        .AddRolePolicy(AdminAuditLog, ConsoleRole.Auditor, ConsoleRole.SystemAdministrator);
}
