// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Audit;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The central authority's console accounts, in registry.db: each login, failure, lockout and
/// account change is an entry of the admin audit log, written in the same transaction (and under
/// the same writer lock) as the change it records.
/// </summary>
public sealed partial class RegistryStore : IConsoleAccountStore
{
    public ConsoleAccount? FindAccount(string name)
    {
        using var connection = _database.OpenConnection();
        return ConsoleAccountTable.Find(connection, null, name);
    }

    public ConsoleAccount? FindAccountByCertificate(string certificateSha256)
    {
        using var connection = _database.OpenConnection();
        return ConsoleAccountTable.FindByCertificate(connection, null, certificateSha256);
    }

    /// <summary>Adds an account (<c>xbus registry user add</c>); a refusal is audited too.</summary>
    public void Add(string actor, ConsoleAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        var details = new { name = account.Name, roles = ConsoleRoles.Format(account.Roles), certificateSha256 = account.CertificateSha256 };
        try
        {
            if (!ConsoleAccount.IsValidName(account.Name) || account.Roles.Count == 0)
            {
                throw new ConsoleAccountException(ConsoleErrors.InvalidAccount,
                    $"An account name is 1-{ConsoleAccount.MaxNameLength} letters, digits, '.', '_' or '-', and an account needs at least one role.");
            }

            Audited(actor, "console.user.add", true, string.Empty, details, (c, t) => ConsoleAccountTable.Insert(c, t, account, _timeProvider.GetUtcNow()));
        }
        catch (ConsoleAccountException ex)
        {
            RecordEvent(actor, "console.user.add", false, ex.Code, details);
            throw;
        }
    }

    public ConsoleAccount? RecordFailedLogin(string name, string errorCode, int maxFailures, DateTimeOffset lockUntil)
    {
        ConsoleAccount? after = null;
        Audited(ConsoleAccount.Actor(name), "console.login", false, errorCode, null,
            (c, t) => after = ConsoleAccountTable.RecordFailure(c, t, name, maxFailures, lockUntil),
            () => new { failedLogins = after?.FailedLogins, lockedUntil = after?.LockedUntil });
        return after;
    }

    public void RecordLogin(string name, string? newPasswordHash) =>
        Audited(ConsoleAccount.Actor(name), "console.login", true, string.Empty, null,
            (c, t) => ConsoleAccountTable.RecordSuccess(c, t, name, newPasswordHash));

    public void RecordEvent(string actor, string action, bool accepted, string errorCode, object? details) =>
        Audited(actor, action, accepted, errorCode, details, (_, _) => { });

    private void Audited(string actor, string action, bool accepted, string errorCode, object? details,
        Action<SqliteConnection, SqliteTransaction> apply, Func<object?>? afterwards = null)
    {
        lock (_writer)
        {
            using var connection = _database.OpenConnection();
            using var transaction = connection.BeginTransaction();
            apply(connection, transaction);
            AdminAuditLog.Append(connection, transaction, _timeProvider.GetUtcNow(), actor, action, accepted, errorCode,
                string.Empty, AdminAuditLog.Describe(afterwards?.Invoke() ?? details));
            transaction.Commit();
        }
    }
}
