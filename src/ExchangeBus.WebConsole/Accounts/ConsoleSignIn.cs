// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Hosting;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>A login's outcome: the account, or the stable code the person is shown.</summary>
public sealed record SignInResult(ConsoleAccount? Account, string ErrorCode)
{
    public bool Succeeded => Account is not null;
}

/// <summary>
/// Checks a name and password, with lockout: <see cref="ConsoleOptions.MaxFailedLogins"/>
/// failures in a row lock the account for <see cref="ConsoleOptions.LockoutDuration"/>, and a
/// locked account is refused whatever the password. Every attempt is recorded by the store.
/// </summary>
public sealed class ConsoleSignIn(IConsoleAccountStore store, ConsoleOptions options, TimeProvider time)
{
    // Verified against when the name is unknown, so an unknown name takes as long as a wrong password.
    private static readonly Lazy<string> Decoy = new(() => ConsolePasswords.Hash(Guid.NewGuid().ToString()));

    public SignInResult SignIn(string? name, string? password)
    {
        name = name?.Trim() ?? string.Empty;
        password ??= string.Empty;
        var now = time.GetUtcNow();
        var account = ConsoleAccount.IsValidName(name) ? store.FindAccount(name) : null;
        if (account is null)
        {
            ConsolePasswords.Verify(Decoy.Value, password, out _);
            store.RecordFailedLogin(Truncated(name), ConsoleErrors.LoginFailed, options.MaxFailedLogins, now + options.LockoutDuration);
            return new SignInResult(null, ConsoleErrors.LoginFailed);
        }

        if (account.IsLockedAt(now))
        {
            // Not counted again: the lock's end does not move while someone keeps trying.
            store.RecordEvent(ConsoleAccount.Actor(account.Name), "console.login", false, ConsoleErrors.LockedOut, null);
            return new SignInResult(null, ConsoleErrors.LockedOut);
        }

        if (!ConsolePasswords.Verify(account.PasswordHash, password, out var rehash))
        {
            var after = store.RecordFailedLogin(account.Name, ConsoleErrors.LoginFailed, options.MaxFailedLogins, now + options.LockoutDuration);
            return new SignInResult(null, after?.IsLockedAt(now) == true ? ConsoleErrors.LockedOut : ConsoleErrors.LoginFailed);
        }

        store.RecordLogin(account.Name, rehash);
        return new SignInResult(account, string.Empty);
    }

    // What a stranger typed goes into the audit log: bounded, and only the characters a name may have.
    private static string Truncated(string name)
    {
        var kept = new string([.. name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(ConsoleAccount.MaxNameLength)]);
        return kept.Length > 0 ? kept : "?";
    }
}
