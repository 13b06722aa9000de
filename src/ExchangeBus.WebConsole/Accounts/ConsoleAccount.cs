// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>One person's console account as stored.</summary>
public sealed record ConsoleAccount(
    string Name,
    IReadOnlySet<ConsoleRole> Roles,
    string PasswordHash,
    int FailedLogins,
    DateTimeOffset? LockedUntil)
{
    /// <summary>At most this long; the audit log's actor is <c>console:NAME</c>.</summary>
    public const int MaxNameLength = 64;

    public bool IsLockedAt(DateTimeOffset now) => LockedUntil is { } until && now < until;

    /// <summary>Letters, digits, '.', '_' and '-': a name that reads the same in a log, a URL and a shell.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>How the audit log names a person acting through the console.</summary>
    public static string Actor(string name) => "console:" + name;
}
