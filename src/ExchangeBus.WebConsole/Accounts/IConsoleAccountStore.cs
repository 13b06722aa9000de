// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// Where a component keeps its console accounts and records what people do: the registry over
/// registry.db and its admin audit log, a node over its own. Every method that changes an
/// account writes the audit entry in the same transaction.
/// </summary>
public interface IConsoleAccountStore
{
    ConsoleAccount? FindAccount(string name);

    /// <summary>The account bound to the client certificate with this <see cref="ConsoleAccount.Fingerprint"/>, if any (<see cref="ConsoleAccountTable.FindByCertificate"/>).</summary>
    ConsoleAccount? FindAccountByCertificate(string certificateSha256);

    /// <summary>Adds an account; <see cref="ConsoleAccountException"/> if the name is taken.</summary>
    void Add(string actor, ConsoleAccount account);

    /// <summary>A failed login (<paramref name="errorCode"/>), counted against the account if it exists; the account after it.</summary>
    ConsoleAccount? RecordFailedLogin(string name, string errorCode, int maxFailures, DateTimeOffset lockUntil);

    /// <summary>A successful login; <paramref name="newPasswordHash"/> replaces an outdated hash.</summary>
    void RecordLogin(string name, string? newPasswordHash);

    /// <summary>Anything else a person did or was refused (logout, a forbidden page), for the audit log.</summary>
    void RecordEvent(string actor, string action, bool accepted, string errorCode, object? details);
}
