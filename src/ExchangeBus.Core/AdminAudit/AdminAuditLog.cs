// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using ExchangeBus.Core.Storage;

namespace ExchangeBus.Core.AdminAudit;

/// <summary>One entry of the admin audit log.</summary>
public sealed record AdminAuditEntry(
    long Sequence,
    DateTimeOffset At,
    string Actor,
    string Action,
    bool Accepted,
    string ErrorCode,
    string Before,
    string After,
    byte[] PreviousHash,
    byte[] Hash);

public sealed record AuditVerification(bool Valid, long Entries, long FirstBadSequence, string Problem);

/// <summary>
/// The record of every change people make, accepted or refused: who, what, when, the state
/// before and after. The registry keeps one (the central authority's) and every node keeps one
/// (its operators' and auditors', in admin.db). Each entry's hash covers the previous entry's hash and its own
/// content, so deleting, reordering or editing an entry breaks every hash after it.
/// Entries are appended inside the transaction of the change they record: no change without
/// its entry, no entry for a change that did not happen.
/// </summary>
public static class AdminAuditLog
{
    /// <summary>The table, as a migration of each database that keeps an admin audit log (a node's admin.db; registry.db has it from its first schema).</summary>
    public const string Schema = """
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            accepted INTEGER NOT NULL,
            error_code TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL);
        """;

    private static readonly byte[] Genesis = new byte[32];

    public static AdminAuditEntry Append(
        DbConnection connection,
        DbTransaction transaction,
        DateTimeOffset at,
        string actor,
        string action,
        bool accepted,
        string errorCode,
        string before,
        string after)
    {
        long previousSequence = 0;
        var previousHash = Genesis;
        using (var last = Sql.Command(connection, transaction, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;"))
        {
            using var reader = last.ExecuteReader();
            if (reader.Read())
            {
                previousSequence = reader.GetInt64(0);
                previousHash = (byte[])reader[1];
            }
        }

        var sequence = previousSequence + 1;
        var atMs = at.ToUnixTimeMilliseconds();
        var hash = ComputeHash(previousHash, sequence, atMs, actor, action, accepted, errorCode, before, after);
        using var insert = Sql.Command(connection, transaction, """
            INSERT INTO audit_log (seq, at, actor, action, accepted, error_code, before, after, prev_hash, hash)
            VALUES (@seq, @at, @actor, @action, @accepted, @error, @before, @after, @prev, @hash);
            """);
        Sql.Bind(insert, "seq", sequence);
        Sql.Bind(insert, "at", atMs);
        Sql.Bind(insert, "actor", actor);
        Sql.Bind(insert, "action", action);
        Sql.Bind(insert, "accepted", accepted ? 1 : 0);
        Sql.Bind(insert, "error", errorCode);
        Sql.Bind(insert, "before", before);
        Sql.Bind(insert, "after", after);
        Sql.Bind(insert, "prev", previousHash);
        Sql.Bind(insert, "hash", hash);
        insert.ExecuteNonQuery();
        return new AdminAuditEntry(sequence, DateTimeOffset.FromUnixTimeMilliseconds(atMs), actor, action, accepted, errorCode, before, after, previousHash, hash);
    }

    // A filter left out is a NULL parameter, cast where it is tested: PostgreSQL cannot type a bare NULL parameter.
    public static IReadOnlyList<AdminAuditEntry> Query(
        DbConnection connection, long afterSequence, int limit, string? actor = null, string? action = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT seq, at, actor, action, accepted, error_code, before, after, prev_hash, hash FROM audit_log
            WHERE seq > @after AND (CAST(@actor AS TEXT) IS NULL OR actor = @actor) AND (CAST(@action AS TEXT) IS NULL OR action = @action)
            ORDER BY seq LIMIT @limit;
            """;
        Sql.Bind(command, "after", afterSequence);
        Sql.Bind(command, "actor", (object?)NullIfEmpty(actor) ?? DBNull.Value);
        Sql.Bind(command, "action", (object?)NullIfEmpty(action) ?? DBNull.Value);
        Sql.Bind(command, "limit", Math.Clamp(limit, 1, 1000));
        var entries = new List<AdminAuditEntry>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(Read(reader));
        }

        return entries;
    }

    /// <summary>
    /// Entries newest first that pass <paramref name="filter"/>, <paramref name="limit"/> of them
    /// from <paramref name="offset"/>, with how many pass.
    /// </summary>
    public static StoreSlice<AdminAuditEntry> Search(DbConnection connection, AuditLogFilter filter, int offset, int limit)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var (actor, action, accepted, from, to) = (filter.Actor, filter.Action, filter.Accepted, filter.From, filter.To);
        const string Where = """
            WHERE (CAST(@actor AS TEXT) IS NULL OR actor = @actor) AND (CAST(@action AS TEXT) IS NULL OR action = @action)
            AND (CAST(@accepted AS INTEGER) IS NULL OR accepted = @accepted)
            AND (CAST(@from AS BIGINT) IS NULL OR at >= @from) AND (CAST(@to AS BIGINT) IS NULL OR at < @to)
            """;
        void Bind(DbCommand command)
        {
            Sql.Bind(command, "actor", (object?)NullIfEmpty(actor) ?? DBNull.Value);
            Sql.Bind(command, "action", (object?)NullIfEmpty(action) ?? DBNull.Value);
            Sql.Bind(command, "accepted", accepted is { } a ? (a ? 1 : 0) : DBNull.Value);
            Sql.Bind(command, "from", from is { } f ? f.ToUnixTimeMilliseconds() : DBNull.Value);
            Sql.Bind(command, "to", to is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value);
        }

        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM audit_log " + Where;
        Bind(count);
        var total = Convert.ToInt32(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, at, actor, action, accepted, error_code, before, after, prev_hash, hash FROM audit_log "
            + Where + " ORDER BY seq DESC LIMIT @limit OFFSET @offset";
        Bind(command);
        Sql.Bind(command, "limit", Math.Clamp(limit, 1, 1000));
        Sql.Bind(command, "offset", Math.Max(0, offset));
        var entries = new List<AdminAuditEntry>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(Read(reader));
        }

        return new StoreSlice<AdminAuditEntry>(entries, total);
    }

    /// <summary>Recomputes every hash from the first entry; names the first entry that does not match.</summary>
    public static AuditVerification Verify(DbConnection connection, DbTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq, at, actor, action, accepted, error_code, before, after, prev_hash, hash FROM audit_log ORDER BY seq;";
        using var reader = command.ExecuteReader();
        var expectedPrevious = Genesis;
        long expectedSequence = 1;
        long count = 0;
        while (reader.Read())
        {
            var entry = Read(reader);
            count++;
            if (entry.Sequence != expectedSequence)
            {
                return new AuditVerification(false, count, expectedSequence, $"entry {expectedSequence} is missing (next is {entry.Sequence})");
            }

            if (!CryptographicOperations.FixedTimeEquals(entry.PreviousHash, expectedPrevious))
            {
                return new AuditVerification(false, count, entry.Sequence, "previous-hash link is broken");
            }

            var hash = ComputeHash(
                entry.PreviousHash, entry.Sequence, entry.At.ToUnixTimeMilliseconds(), entry.Actor, entry.Action,
                entry.Accepted, entry.ErrorCode, entry.Before, entry.After);
            if (!CryptographicOperations.FixedTimeEquals(hash, entry.Hash))
            {
                return new AuditVerification(false, count, entry.Sequence, "content does not match its hash");
            }

            expectedPrevious = entry.Hash;
            expectedSequence++;
        }

        return new AuditVerification(true, count, 0, string.Empty);
    }

    private static AdminAuditEntry Read(DbDataReader reader) => new(
        reader.GetInt64(0),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetInt64(4) != 0,
        reader.GetString(5),
        reader.GetString(6),
        reader.GetString(7),
        (byte[])reader[8],
        (byte[])reader[9]);

    /// <summary>SHA-256 over the previous hash and a JSON array of the fields: unambiguous, and easy to recompute anywhere.</summary>
    public static byte[] ComputeHash(
        byte[] previousHash, long sequence, long atMs, string actor, string action, bool accepted, string errorCode, string before, string after)
    {
        var content = JsonSerializer.SerializeToUtf8Bytes(new object[] { sequence, atMs, actor, action, accepted, errorCode, before, after });
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(previousHash);
        sha.AppendData(content);
        return sha.GetHashAndReset();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public static string Describe(object? state) =>
        state is null ? string.Empty : JsonSerializer.Serialize(state, StateJson);

    private static readonly JsonSerializerOptions StateJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
