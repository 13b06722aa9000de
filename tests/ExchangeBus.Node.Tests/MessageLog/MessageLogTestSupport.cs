// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Node.MessageLog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.MessageLog;

/// <summary>
/// Where the tests' <see cref="FakeTimeProvider"/> starts: a fixed, whole-second instant (its
/// own default, 2000-01-01, is not used).
/// </summary>
internal static class TestClock
{
    public static DateTimeOffset Start { get; } = new(2030, 1, 15, 12, 0, 0, TimeSpan.Zero);
}

/// <summary>A temp folder with a message log path in it, removed afterwards.</summary>
internal sealed class TempLogFolder : IDisposable
{
    public TempLogFolder()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xbus-msglog-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string LogPath => System.IO.Path.Combine(Directory, "messages.db");

    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a test for.
        }
    }
}

internal static class Records
{
    public static SqliteMessageLog Open(string path, TimeProvider? clock = null, MessageLogOptions? options = null) =>
        SqliteMessageLog.Open(path, options ?? new MessageLogOptions(), clock ?? new FakeTimeProvider(TestClock.Start), NullLogger<SqliteMessageLog>.Instance);

    /// <summary>A realistic record: ~300-byte header, <paramref name="bodyBytes"/> of body, a DER-sized signature.</summary>
    public static MessageLogRecord Make(
        string messageId,
        MessageDirection direction = MessageDirection.ClientRequest,
        int bodyBytes = 1024,
        bool logBody = true,
        string? subjectId = "VN-CITIZEN-0123456789",
        string status = MessageLogRecord.StatusOk)
    {
        var body = new byte[bodyBytes];
        var seed = Encoding.UTF8.GetBytes(messageId);
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(seed[i % seed.Length] + i);
        }

        var header = Encoding.UTF8.GetBytes(
            $"header|{messageId}|VN/GOV/000.00.00.G01/dossier|VN/GOV/000.00.00.H01/registry/getCitizen/v1|".PadRight(300, '.'));
        return new MessageLogRecord
        {
            MessageId = messageId,
            Direction = direction,
            Client = "VN/GOV/000.00.00.G01/dossier",
            Service = "VN/GOV/000.00.00.H01/registry/getCitizen/v1",
            UserId = "officer-42",
            SubjectId = subjectId,
            Issue = "CASE-2030-0001",
            Status = status,
            Header = header,
            Body = logBody ? body : null,
            BodySha256 = SHA256.HashData(body),
            Signature = SHA256.HashData(header).Concat(SHA256.HashData(body)).Concat(new byte[8]).ToArray(),
            SignerCertificateSha256 = SHA256.HashData(Encoding.UTF8.GetBytes("signer certificate")),
            CorrelationId = "corr-" + messageId,
        };
    }

    /// <summary>Runs SQL against the file directly, as someone with write access to the disk would.</summary>
    public static void Tamper(string path, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }

    /// <summary>One value read from any SQLite file (a log, files.db), read-only, as an auditor or a test looks.</summary>
    public static long Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    public static byte[] ReadBlob(string path, string column, long sequence)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {column} FROM records WHERE seq = $seq;";
        command.Parameters.AddWithValue("$seq", sequence);
        return (byte[])command.ExecuteScalar()!;
    }

    /// <summary>What a forger with the disk does after an edit: every hash from <paramref name="sequence"/> on made to match.</summary>
    public static void RecomputeChainFrom(string path, long sequence)
    {
        using var log = MessageLogReader.Open(path);
        var previous = log.Get(sequence - 1)?.Hash ?? MessageLogHash.Genesis();
        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var last = log.LastSequence();
        for (var seq = sequence; seq <= last; seq++)
        {
            var entry = log.Get(seq)!;
            var hash = MessageLogHash.Compute(hasher, previous, seq, entry.Record.At.ToUnixTimeMilliseconds(), entry.Record);
            Tamper(path, "UPDATE records SET prev_hash = $p, hash = $h WHERE seq = $seq;", ("$p", previous), ("$h", hash), ("$seq", seq));
            previous = hash;
        }
    }

    /// <summary>One column of one record as SQLite holds it: long, string, byte[], or null for NULL.</summary>
    public static object? ReadValue(string path, string column, long sequence)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {column} FROM records WHERE seq = $seq;";
        command.Parameters.AddWithValue("$seq", sequence);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}

/// <summary>Keeps every log event (id, level, rendered message) for tests to inspect.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Message)> _events = new();

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Events => [.. _events];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _events.Enqueue((eventId, logLevel, formatter(state, exception)));
}
