// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.WebConsole;

/// <summary>
/// What the central authority's console lets each role do, as authorization policies on the
/// pages that act (<c>[Authorize(Policy = …)]</c>). Reading needs only a signed-in account.
/// The roles each policy names are set in <c>AddExchangeBusRegistry</c>; docs/design/console.md
/// has the table.
/// </summary>
public static class RegistryConsolePolicies
{
    /// <summary>Approve or refuse a node's registration: registration officers.</summary>
    public const string DecideRegistrations = "Registry.DecideRegistrations";

    /// <summary>Add members and subsystems, disable and enable them: registration officers.</summary>
    public const string ManageMembers = "Registry.ManageMembers";

    /// <summary>Add a member class (a setting of the whole instance, X-Road's system settings): system administrators.</summary>
    public const string ManageMemberClasses = "Registry.ManageMemberClasses";

    /// <summary>Add a member to a global group or remove one: registration officers.</summary>
    public const string ManageGlobalGroups = "Registry.ManageGlobalGroups";

    /// <summary>Revoke a certificate the registry issued: security officers.</summary>
    public const string RevokeCertificates = "Registry.RevokeCertificates";

    /// <summary>Recompute the admin audit log's hash chain (it reads the whole log): auditors, security officers, system administrators.</summary>
    public const string VerifyAuditLog = "Registry.VerifyAuditLog";
}
