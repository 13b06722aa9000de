// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// The <c>console_accounts</c> table: its schema (a migration of each database that holds
/// accounts) and its statements, one copy for the registry and the nodes. Each method runs in
/// the caller's transaction, so the caller writes its audit entry in the same one.
/// </summary>
public static class ConsoleAccountTable
{
    /// <summary>The migration that adds the table (the first of two: apply <see cref="CertificateBinding"/> after it).</summary>
    public const string Schema = """
        CREATE TABLE console_accounts (
            name TEXT PRIMARY KEY,
            roles TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER,
            created_at INTEGER NOT NULL);
        """;

    /// <summary>
    /// The migration after <see cref="Schema"/>: an account may be bound to one client
    /// certificate by its SHA-256 (<see cref="ConsoleAccount.Fingerprint"/>), and a certificate to
    /// at most one account. A separate migration, since databases already hold the first.
    /// </summary>
    public const string CertificateBinding = """
        ALTER TABLE console_accounts ADD COLUMN certificate_sha256 TEXT;
        CREATE UNIQUE INDEX console_accounts_by_certificate ON console_accounts(certificate_sha256);
        """;

    private const string Columns = "name, roles, password_hash, failed_logins, locked_until, certificate_sha256";

    public static ConsoleAccount? Find(DbConnection connection, DbTransaction? transaction, string name) =>
        Read(connection, transaction, $"SELECT {Columns} FROM console_accounts WHERE name = @a", name);

    /// <summary>The account bound to the certificate whose <see cref="ConsoleAccount.Fingerprint"/> this is.</summary>
    public static ConsoleAccount? FindByCertificate(DbConnection connection, DbTransaction? transaction, string certificateSha256) =>
        Read(connection, transaction, $"SELECT {Columns} FROM console_accounts WHERE certificate_sha256 = @a", certificateSha256);

    private static ConsoleAccount? Read(DbConnection connection, DbTransaction? transaction, string sql, string key)
    {
        using var command = Command(connection, transaction, sql, key);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new ConsoleAccount(
                reader.GetString(0),
                ConsoleRoles.ParseList(reader.GetString(1)),
                reader.GetString(2),
                reader.GetInt32(3),
                reader.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : reader.GetString(5))
            : null;
    }

    public static void Insert(DbConnection connection, DbTransaction transaction, ConsoleAccount account, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (Find(connection, transaction, account.Name) is not null)
        {
            throw new ConsoleAccountException(ConsoleErrors.DuplicateAccount, $"An account named '{account.Name}' already exists.");
        }

        if (account.CertificateSha256 is { } certificate && FindByCertificate(connection, transaction, certificate) is { } holder)
        {
            throw new ConsoleAccountException(ConsoleErrors.CertificateInUse, $"The certificate is already bound to the account '{holder.Name}'.");
        }

        Execute(connection, transaction,
            "INSERT INTO console_accounts (name, roles, password_hash, failed_logins, locked_until, created_at, certificate_sha256) VALUES (@a, @b, @c, 0, NULL, @d, @e)",
            account.Name, ConsoleRoles.Format(account.Roles), account.PasswordHash, now.ToUnixTimeMilliseconds(), account.CertificateSha256);
    }

    /// <summary>
    /// Counts a failed login in one statement (two at once both count) and locks the account
    /// when the count reaches <paramref name="maxFailures"/>. Returns the account after it, or
    /// null when no account has that name.
    /// </summary>
    public static ConsoleAccount? RecordFailure(DbConnection connection, DbTransaction transaction, string name, int maxFailures, DateTimeOffset lockUntil)
    {
        Execute(connection, transaction, """
            UPDATE console_accounts SET
                failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= @b THEN @c ELSE locked_until END
            WHERE name = @a
            """, name, maxFailures, lockUntil.ToUnixTimeMilliseconds());
        return Find(connection, transaction, name);
    }

    /// <summary>A successful login: the failure count starts again; a re-hashed password (newer parameters) is stored.</summary>
    public static void RecordSuccess(DbConnection connection, DbTransaction transaction, string name, string? newPasswordHash)
    {
        Execute(connection, transaction,
            "UPDATE console_accounts SET failed_logins = 0, locked_until = NULL, password_hash = COALESCE(@b, password_hash) WHERE name = @a",
            name, newPasswordHash);
    }
}
