// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>The console's stable error codes: shown to the person and written to the audit log.</summary>
public static class ConsoleErrors
{
    /// <summary>Wrong account name or password (the same answer for both: names are not revealed).</summary>
    public const string LoginFailed = "Console.LoginFailed";

    /// <summary>Too many failed logins in a row: the account is locked for a while, whatever password is given.</summary>
    public const string LockedOut = "Console.LockedOut";

    /// <summary>The account's roles do not allow the action.</summary>
    public const string Forbidden = "Console.Forbidden";

    /// <summary>An account name already taken.</summary>
    public const string DuplicateAccount = "Console.DuplicateAccount";

    /// <summary>An account name or role that is not allowed.</summary>
    public const string InvalidAccount = "Console.InvalidAccount";
}
