// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// X-Road's roles for the people who run the central server and the security servers. An
/// account holds one or more; what each may do is decided by the pages' authorization
/// policies, on the server.
/// </summary>
public enum ConsoleRole
{
    /// <summary>Decides node registrations (and, later, member and subsystem changes).</summary>
    RegistrationOfficer,

    /// <summary>Keys and certificates: revocation, the node's own keys.</summary>
    SecurityOfficer,

    /// <summary>The component's own settings: listeners, configuration, accounts.</summary>
    SystemAdministrator,

    /// <summary>A node's clients, services and access rules.</summary>
    ServiceAdministrator,

    /// <summary>Reads everything, changes nothing.</summary>
    Auditor,
}
