// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The central authority's console accounts, in registry.db: each login, failure, lockout and
/// account change is an entry of the admin audit log, written in the same transaction (and under
/// the same writer lock as every other change of the store) as the change it records.
/// </summary>
public sealed partial class RegistryStore : IConsoleAccountStore
{
    private AuditedAccountStore? _accounts;

    /// <summary>The accounts and the admin audit log over registry.db, with the store's writer lock (the console's audit log pages read and verify through it).</summary>
    public AuditedAccountStore Accounts => _accounts ??= new AuditedAccountStore(_database.Store, _timeProvider, _writer);

    public ConsoleAccount? FindAccount(string name) => Accounts.FindAccount(name);

    public ConsoleAccount? FindAccountByCertificate(string certificateSha256) => Accounts.FindAccountByCertificate(certificateSha256);

    /// <summary>Adds an account (<c>xbus registry user add</c>); a refusal is audited too.</summary>
    public void Add(string actor, ConsoleAccount account) => Accounts.Add(actor, account);

    public ConsoleAccount? RecordFailedLogin(string name, string errorCode, int maxFailures, DateTimeOffset lockUntil) =>
        Accounts.RecordFailedLogin(name, errorCode, maxFailures, lockUntil);

    public void RecordLogin(string name, string? newPasswordHash) => Accounts.RecordLogin(name, newPasswordHash);

    public void RecordEvent(string actor, string action, bool accepted, string errorCode, object? details) =>
        Accounts.RecordEvent(actor, action, accepted, errorCode, details);
}
