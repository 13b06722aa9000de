// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Node.MessageLog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// Message log appends with synchronous=FULL (every commit flushed to disk) and a 1 KiB body:
/// one appender awaiting each record (no one to share a commit with), 64 concurrent appenders
/// (group commit shares each flush), and as the baseline a plain SQLite table with one row per
/// transaction, which is what a log without group commit would cost. Time per operation is per
/// record, so records/s = 1 s / Mean. The node's exchange target is about 5,000 appends/s.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*MessageLog*' --job short</c>.
/// The databases are in the temp folder: it must be on the disk being measured (not tmpfs).
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class MessageLogBenchmarks
{
    private const int SequentialAppends = 256;
    private const int Appenders = 64;
    private const int AppendsPerAppender = 32;

    private string _folder = null!;
    private SqliteMessageLog _log = null!;
    private MessageLogRecord _record = null!;
    private SqliteConnection _plain = null!;
    private SqliteCommand _plainInsert = null!;
    private long _plainId;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "xbus-msglog-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        _log = SqliteMessageLog.Open(
            Path.Combine(_folder, "messages.db"),
            new MessageLogOptions { Synchronous = MessageLogSynchronous.Full },
            TimeProvider.System,
            NullLogger<SqliteMessageLog>.Instance);

        var body = new byte[1024];
        Random.Shared.NextBytes(body);
        var header = Encoding.UTF8.GetBytes("header|VN/GOV/000.00.00.G01/dossier|VN/GOV/000.00.00.H01/registry/getCitizen/v1|".PadRight(300, '.'));
        _record = new MessageLogRecord
        {
            MessageId = Guid.NewGuid().ToString(),
            Direction = MessageDirection.ProviderRequest,
            Client = "VN/GOV/000.00.00.G01/dossier",
            Service = "VN/GOV/000.00.00.H01/registry/getCitizen/v1",
            UserId = "officer-42",
            SubjectId = "VN-CITIZEN-0123456789",
            Issue = "CASE-2030-0001",
            Status = MessageLogRecord.StatusOk,
            Header = header,
            Body = body,
            BodySha256 = SHA256.HashData(body),
            Signature = new byte[72],
            SignerCertificateSha256 = new byte[32],
            CorrelationId = Guid.NewGuid().ToString(),
        };

        _plain = new SqliteConnection($"Data Source={Path.Combine(_folder, "plain.db")};Pooling=False");
        _plain.Open();
        using (var setup = _plain.CreateCommand())
        {
            setup.CommandText = """
                PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
                CREATE TABLE plain (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, message_id TEXT NOT NULL, header BLOB NOT NULL, body BLOB NOT NULL);
                """;
            setup.ExecuteNonQuery();
        }

        _plainInsert = _plain.CreateCommand();
        _plainInsert.CommandText = "INSERT INTO plain (id, at, message_id, header, body) VALUES ($id, $at, $message_id, $header, $body);";
        _plainInsert.Parameters.Add("$id", SqliteType.Integer);
        _plainInsert.Parameters.AddWithValue("$at", 0L);
        _plainInsert.Parameters.AddWithValue("$message_id", _record.MessageId);
        _plainInsert.Parameters.AddWithValue("$header", header);
        _plainInsert.Parameters.AddWithValue("$body", body);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        Console.WriteLine($"// Message log: {_log.LastSequence()} records written; verify: {_log.Verify(Math.Max(1, _log.LastSequence() - 9_999)).IsValid}");
        await _log.DisposeAsync();
        _plainInsert.Dispose();
        _plain.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The cost without group commit: one row, one transaction, one flush.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = SequentialAppends)]
    public void PlainSqlite_OneRowPerTransaction()
    {
        for (var i = 0; i < SequentialAppends; i++)
        {
            using var transaction = _plain.BeginTransaction(deferred: false);
            _plainInsert.Transaction = transaction;
            _plainInsert.Parameters[0].Value = ++_plainId;
            _plainInsert.Parameters[1].Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            _plainInsert.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    [Benchmark(OperationsPerInvoke = SequentialAppends)]
    public async Task Append_1Appender()
    {
        for (var i = 0; i < SequentialAppends; i++)
        {
            await _log.AppendAsync(_record);
        }
    }

    [Benchmark(OperationsPerInvoke = Appenders * AppendsPerAppender)]
    public async Task Append_64Appenders()
    {
        var appenders = new Task[Appenders];
        for (var a = 0; a < Appenders; a++)
        {
            appenders[a] = Task.Run(async () =>
            {
                for (var i = 0; i < AppendsPerAppender; i++)
                {
                    await _log.AppendAsync(_record);
                }
            });
        }

        await Task.WhenAll(appenders);
    }
}
