// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>The roles' names as the command line, the database and the role claims spell them.</summary>
public static class ConsoleRoles
{
    private static readonly Dictionary<ConsoleRole, string> Names = new()
    {
        [ConsoleRole.RegistrationOfficer] = "registration-officer",
        [ConsoleRole.SecurityOfficer] = "security-officer",
        [ConsoleRole.SystemAdministrator] = "system-administrator",
        [ConsoleRole.ServiceAdministrator] = "service-administrator",
        [ConsoleRole.Auditor] = "auditor",
    };

    public static IReadOnlyCollection<string> All => Names.Values;

    public static string Name(ConsoleRole role) => Names[role];

    public static bool TryParse(string? name, out ConsoleRole role)
    {
        foreach (var (value, text) in Names)
        {
            if (string.Equals(text, name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                role = value;
                return true;
            }
        }

        role = default;
        return false;
    }

    /// <summary>"a,b" as stored; unknown names (from a newer release) are skipped, never widened.</summary>
    public static IReadOnlySet<ConsoleRole> ParseList(string stored)
    {
        var roles = new HashSet<ConsoleRole>();
        foreach (var name in stored.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryParse(name, out var role))
            {
                roles.Add(role);
            }
        }

        return roles;
    }

    public static string Format(IEnumerable<ConsoleRole> roles) => string.Join(',', roles.Distinct().Order().Select(Name));
}
