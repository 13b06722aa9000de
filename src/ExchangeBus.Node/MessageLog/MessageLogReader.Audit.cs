// SPDX-License-Identifier: Apache-2.0
using System.Text;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>The auditors' reads: queries with stable paging, one record with its evidence, ranges.</summary>
public sealed partial class MessageLogReader
{
    private const string SummaryColumns = "seq, at, message_id, direction, client, service, user_id, subject_id, issue, status, hash, body_sha256, signature, header";

    /// <summary>One page of the records matching every filter of <paramref name="query"/>.</summary>
    public MessageLogPage Query(MessageLogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.PageSize, MessageLogQuery.MaxPageSize, nameof(query));
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        var where = new StringBuilder("1 = 1");
        void Equal(string column, string name, string? value)
        {
            if (value is not null)
            {
                where.Append(" AND ").Append(column).Append(" = ").Append(name);
                command.Parameters.AddWithValue(name, value);
            }
        }

        Equal("message_id", "$message_id", query.MessageId);
        Equal("subject_id", "$subject_id", MessageLogHash.NormalizeSubject(query.SubjectId));
        Equal("client", "$client", query.Client);
        Equal("service", "$service", query.Service);
        Equal("user_id", "$user_id", query.UserId);
        Equal("status", "$status", query.Status);
        if (query.From is { } from)
        {
            where.Append(" AND at >= $from");
            command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        }

        if (query.To is { } to)
        {
            where.Append(" AND at < $to");
            command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        }

        if (query.PartyMember is { } member)
        {
            // The member itself (a member-level client) or anything under it (its subsystems and
            // their services); substr, not LIKE: identifiers may hold '_', which LIKE reads as a wildcard.
            var prefix = member + "/";
            where.Append(" AND (client = $member OR service = $member OR substr(client, 1, $party_length) = $party OR substr(service, 1, $party_length) = $party)");
            command.Parameters.AddWithValue("$member", member);
            command.Parameters.AddWithValue("$party", prefix);
            command.Parameters.AddWithValue("$party_length", prefix.Length);
        }

        if (query.After is { } after)
        {
            where.Append(" AND (at, seq) > ($after_at, $after_seq)");
            command.Parameters.AddWithValue("$after_at", after.AtUnixMilliseconds);
            command.Parameters.AddWithValue("$after_seq", after.Sequence);
        }

        // One row more than the page tells whether there is a next page without a second query.
        command.CommandText = $"SELECT {SummaryColumns} FROM records WHERE {where} ORDER BY at, seq LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", query.PageSize + 1);
        var rows = new List<MessageLogSummary>(Math.Min(query.PageSize + 1, 128));
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add(new MessageLogSummary(
                    reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetString(2),
                    (MessageDirection)checked((int)reader.GetInt64(3)), reader.GetString(4), reader.GetString(5), reader.GetString(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetFieldValue<byte[]>(10),
                    reader.GetFieldValue<byte[]>(11), reader.GetFieldValue<byte[]>(12), reader.GetFieldValue<byte[]>(13)));
            }
        }

        if (rows.Count <= query.PageSize)
        {
            return new MessageLogPage(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        var last = rows[^1];
        return new MessageLogPage(rows, new MessageLogCursor(last.At.ToUnixTimeMilliseconds(), last.Sequence));
    }

    /// <summary>The record with its signer certificate and OCSP response, or null when there is no such record.</summary>
    public MessageLogEvidence? GetEvidence(long sequence)
    {
        using var connection = OpenConnection();
        MessageLogEntry entry;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {MessageLogDatabase.Columns} FROM records WHERE seq = $seq;";
            command.Parameters.AddWithValue("$seq", sequence);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            entry = ReadEntry(reader);
        }

        var certificate = entry.Record.SignerCertificateSha256 is { } certificateHash ? Blob(connection, certificateHash) : null;
        byte[]? ocsp = null;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT b.der FROM record_ocsp o JOIN blobs b ON b.sha256 = o.ocsp_sha256 WHERE o.seq = $seq;";
            command.Parameters.AddWithValue("$seq", sequence);
            ocsp = command.ExecuteScalar() as byte[];
        }

        return new MessageLogEvidence(entry, certificate, ocsp);
    }

    /// <summary>Up to <paramref name="limit"/> records from <paramref name="fromSequence"/> to <paramref name="toSequence"/>, with their signer certificates.</summary>
    public MessageLogRange ReadRange(long fromSequence, long toSequence, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromSequence, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        using var connection = OpenConnection();
        var entries = new List<MessageLogEntry>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {MessageLogDatabase.Columns} FROM records WHERE seq >= $from AND seq <= $to ORDER BY seq LIMIT $limit;";
            command.Parameters.AddWithValue("$from", fromSequence);
            command.Parameters.AddWithValue("$to", toSequence);
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                entries.Add(ReadEntry(reader));
            }
        }

        var certificates = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var hash in entries.Select(e => e.Record.SignerCertificateSha256).OfType<byte[]>())
        {
            var key = Convert.ToHexString(hash);
            if (!certificates.ContainsKey(key) && Blob(connection, hash) is { } der)
            {
                certificates[key] = der;
            }
        }

        var next = entries.Count == limit && entries[^1].Sequence < toSequence ? entries[^1].Sequence + 1 : 0;
        return new MessageLogRange(entries, certificates, next);
    }

    /// <summary>The certificate or OCSP response kept under <paramref name="sha256"/>, as stored (not re-hashed), or null.</summary>
    public byte[]? GetBlob(byte[] sha256)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        using var connection = OpenConnection();
        return Blob(connection, sha256);
    }

    private static byte[]? Blob(SqliteConnection connection, byte[] sha256)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT der FROM blobs WHERE sha256 = $sha256;";
        command.Parameters.AddWithValue("$sha256", sha256);
        return command.ExecuteScalar() as byte[];
    }
}
