// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>The console's stable error codes: shown to the person and written to the audit log.</summary>
public static class ConsoleErrors
{
    /// <summary>Wrong account name or password (the same answer for both: names are not revealed).</summary>
    public const string LoginFailed = "Console.LoginFailed";

    /// <summary>Too many failed logins in a row: the account is locked for a while, whatever password is given.</summary>
    public const string LockedOut = "Console.LockedOut";

    /// <summary>Too many login attempts from this address (or from everyone) in a short time: answered 429 before any password is checked.</summary>
    public const string TooManyAttempts = "Console.TooManyAttempts";

    /// <summary>
    /// The client certificate is not one the bus issued for a person (an administrator's or an
    /// auditor's certificate of its CA, within its validity, on record): nobody's login.
    /// </summary>
    public const string CertificateRefused = "Console.CertificateRefused";

    /// <summary>The client certificate was revoked.</summary>
    public const string CertificateRevoked = "Console.CertificateRevoked";

    /// <summary>A valid certificate of the bus that no console account is bound to.</summary>
    public const string CertificateNotBound = "Console.CertificateNotBound";

    /// <summary>The account's roles do not allow the action.</summary>
    public const string Forbidden = "Console.Forbidden";

    /// <summary>A certificate already bound to another account.</summary>
    public const string CertificateInUse = "Console.CertificateInUse";

    /// <summary>An account name already taken.</summary>
    public const string DuplicateAccount = "Console.DuplicateAccount";

    /// <summary>An account name or role that is not allowed.</summary>
    public const string InvalidAccount = "Console.InvalidAccount";
}
