// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Core.Storage;
using System.Data.Common;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// Console accounts in a database that also holds an admin audit log (<see cref="AdminAuditLog"/>):
/// each login, failure, lockout, account change and console action is an entry, written in the
/// same transaction as the change it records and under one writer lock, so the log's chain has
/// one writer per process. A node keeps both tables in its admin.db; the registry in registry.db,
/// where it passes the lock its other changes take, so that the log's chain has one writer (and
/// on PostgreSQL, the database's writer lock: one writer across the registry's instances too).
/// </summary>
public sealed class AuditedAccountStore(StoreDatabase database, TimeProvider time, Lock? writer = null) : IConsoleAccountStore
{
    private readonly Lock _writer = writer ?? new();

    public ConsoleAccount? FindAccount(string name)
    {
        using var connection = database.Open();
        return ConsoleAccountTable.Find(connection, null, name);
    }

    public ConsoleAccount? FindAccountByCertificate(string certificateSha256)
    {
        using var connection = database.Open();
        return ConsoleAccountTable.FindByCertificate(connection, null, certificateSha256);
    }

    /// <summary>Adds an account (<c>xbus registry|node user add</c>); a refusal is audited too.</summary>
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

            Audited(actor, "console.user.add", true, string.Empty, string.Empty, details, (c, t) => ConsoleAccountTable.Insert(c, t, account, time.GetUtcNow()));
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
        Audited(ConsoleAccount.Actor(name), "console.login", false, errorCode, string.Empty, null,
            (c, t) => after = ConsoleAccountTable.RecordFailure(c, t, name, maxFailures, lockUntil),
            () => new { failedLogins = after?.FailedLogins, lockedUntil = after?.LockedUntil });
        return after;
    }

    public void RecordLogin(string name, string? newPasswordHash) =>
        Audited(ConsoleAccount.Actor(name), "console.login", true, string.Empty, string.Empty, null,
            (c, t) => ConsoleAccountTable.RecordSuccess(c, t, name, newPasswordHash));

    public void RecordEvent(string actor, string action, bool accepted, string errorCode, object? details) =>
        Audited(actor, action, accepted, errorCode, string.Empty, details, (_, _) => { });

    /// <summary>
    /// A change made outside this database (a settings file) by <paramref name="actor"/>: the entry
    /// with the state before and after, committed only after <paramref name="apply"/> returns, so a
    /// change that throws leaves no entry claiming it happened.
    /// </summary>
    public AdminAuditEntry RecordChange(string actor, string action, object? before, object? after, Action apply)
    {
        ArgumentNullException.ThrowIfNull(apply);
        return Audited(actor, action, true, string.Empty, AdminAuditLog.Describe(before), after, (_, _) => apply());
    }

    /// <summary>The log's entries after <paramref name="afterSequence"/>, oldest first.</summary>
    public IReadOnlyList<AdminAuditEntry> Query(long afterSequence, int limit, string? actor = null, string? action = null)
    {
        using var connection = database.Open();
        return AdminAuditLog.Query(connection, afterSequence, limit, actor, action);
    }

    /// <summary>The entries that pass <paramref name="filter"/>, newest first, a slice at a time with their total (the console's audit log page).</summary>
    public StoreSlice<AdminAuditEntry> Search(AuditLogFilter filter, int offset, int limit)
    {
        using var connection = database.Open();
        return AdminAuditLog.Search(connection, filter, offset, limit);
    }

    public AuditVerification Verify()
    {
        using var connection = database.Open();
        return AdminAuditLog.Verify(connection);
    }

    /// <summary>
    /// Verifies the chain and records that <paramref name="actor"/> did, with the outcome, in one
    /// transaction under the writer lock: the entry links to the tip just verified, nothing can
    /// come between, so an intact chain's count includes it (and matches a check run right after).
    /// </summary>
    public AuditVerification VerifyRecorded(string actor, string action)
    {
        AuditVerification? result = null;
        Audited(actor, action, true, string.Empty, string.Empty, null, (c, t) => result = AdminAuditLog.Verify(c, t),
            () => new { valid = result!.Valid, entries = result.Entries, firstBadSequence = result.FirstBadSequence, problem = result.Problem });
        return result!.Valid ? result with { Entries = result.Entries + 1 } : result;
    }

    private AdminAuditEntry Audited(string actor, string action, bool accepted, string errorCode, string before, object? details,
        Action<DbConnection, DbTransaction> apply, Func<object?>? afterwards = null)
    {
        lock (_writer)
        {
            using var connection = database.Open();
            using var transaction = database.BeginWrite(connection);
            apply(connection, transaction);
            var entry = AdminAuditLog.Append(connection, transaction, time.GetUtcNow(), actor, action, accepted, errorCode,
                before, AdminAuditLog.Describe(afterwards?.Invoke() ?? details));
            transaction.Commit();
            return entry;
        }
    }
}
