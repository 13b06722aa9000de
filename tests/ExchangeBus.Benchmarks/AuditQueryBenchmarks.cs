// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Node.MessageLog;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// Auditors' queries on a message log of 10 million records (issue 5: by subject or message id
/// under 50 ms, first page of a time range under 50 ms), beside a point read of one record by
/// sequence as the baseline. The log is made once (<see cref="LargeLog"/>) and kept in the temp
/// folder for later runs: about 30 days of traffic, 512-byte bodies and 300-byte headers, a million citizens with about
/// ten records each, tree heads every 10,000 records.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*AuditQuery*' --job short</c>
/// (XBUS_BENCH_RECORDS sets another size; the first run spends minutes writing the log).
/// </remarks>
[MedianColumn]
public class AuditQueryBenchmarks
{
    private MessageLogReader _reader = null!;
    private Random _random = null!;
    private long _records;
    private DateTimeOffset _start;

    [GlobalSetup]
    public void Setup()
    {
        _records = LargeLog.RecordsFromEnvironment();
        _reader = MessageLogReader.Open(LargeLog.Ensure(_records));
        _random = new Random(42);
        _start = LargeLog.Start;
    }

    [GlobalCleanup]
    public void Cleanup() => _reader.Dispose();

    [Benchmark(Baseline = true, Description = "Point read of one record by sequence (baseline)")]
    public MessageLogEntry? PointRead() => _reader.Get(1 + _random.NextInt64(_records));

    [Benchmark(Description = "Query by subject id (one citizen's ~10 records)")]
    public int BySubject() => _reader.Query(new MessageLogQuery { SubjectId = LargeLog.Subject(_random.NextInt64(_records)) }).Records.Count;

    [Benchmark(Description = "Query by message id")]
    public int ByMessageId() => _reader.Query(new MessageLogQuery { MessageId = LargeLog.MessageId(_random.NextInt64(_records)) }).Records.Count;

    [Benchmark(Description = "Time range (1 h), first page of 100")]
    public int TimeRangeFirstPage()
    {
        var from = _start + TimeSpan.FromMilliseconds(LargeLog.MillisecondsPerRecord * _random.NextInt64(_records));
        return _reader.Query(new MessageLogQuery { From = from, To = from.AddHours(1) }).Records.Count;
    }

    [Benchmark(Description = "Member auditor: time range (1 h), first page of 100")]
    public int MemberTimeRangeFirstPage()
    {
        var from = _start + TimeSpan.FromMilliseconds(LargeLog.MillisecondsPerRecord * _random.NextInt64(_records));
        return _reader.Query(new MessageLogQuery { From = from, To = from.AddHours(1), PartyMember = LargeLog.Member(_random.Next(LargeLog.Members)) }).Records.Count;
    }

    [Benchmark(Description = "One record's evidence + inclusion proof in its head")]
    public int EvidenceWithProof()
    {
        var sequence = 1 + _random.NextInt64(_records - LargeLog.HeadEvery);
        var evidence = _reader.GetEvidence(sequence)!;
        var head = _reader.FirstTreeHeadCovering(sequence)!;
        return evidence.Entry.Record.Header.Length + _reader.InclusionProof(sequence, head.TreeSize).Length;
    }
}

/// <summary>A large realistic message log, written once through the real writer and cached on disk.</summary>
internal static class LargeLog
{
    public const int Members = 20;
    public const int HeadEvery = 10_000;
    public const long MillisecondsPerRecord = 250;
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const int Citizens = 1_000_000;

    public static long RecordsFromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("XBUS_BENCH_RECORDS"), out var records) && records > HeadEvery ? records : 10_000_000;

    public static string Member(int index) => $"VN/GOV/000.00.00.M{index:D2}";

    public static string Subject(long record) => $"VN-CITIZEN-{record % Citizens:D9}";

    public static string MessageId(long record) => $"msg-{record / 2:D12}";

    /// <summary>The path of a log of <paramref name="records"/> records, written now if it is not there yet.</summary>
    public static string Ensure(long records)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"xbus-large-log-{records}");
        var path = Path.Combine(folder, "messagelog.db");
        var done = Path.Combine(folder, "complete");
        if (File.Exists(done))
        {
            return path;
        }

        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        var watch = Stopwatch.StartNew();
        // Each reading a fixed step later: the writer stamps one record per reading.
        var clock = new FakeTimeProvider(Start) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(MillisecondsPerRecord) };
        var log = SqliteMessageLog.Open(path, new MessageLogOptions { Synchronous = MessageLogSynchronous.Normal }, clock, NullLogger<SqliteMessageLog>.Instance);
        try
        {
            var body = new byte[512];
            new Random(7).NextBytes(body);
            var bodyHash = SHA256.HashData(body);
            var certificate = Encoding.ASCII.GetBytes("stand-in signer certificate");
            var certificateHash = SHA256.HashData(certificate);
            long next = -1;
            var writers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                long i;
                while ((i = Interlocked.Increment(ref next)) < records)
                {
                    var member = Member((int)(i % Members));
                    var provider = Member((int)((i / 7) % Members));
                    await log.AppendAsync(new MessageLogRecord
                    {
                        MessageId = MessageId(i),
                        Direction = (MessageDirection)(1 + (i % 4)),
                        Client = $"{member}/system{i % 3}",
                        Service = $"{provider}/registry/getCitizen/v1",
                        UserId = $"officer-{i % 5000}",
                        SubjectId = Subject(i),
                        Issue = $"CASE-{i % 100_000}",
                        Status = i % 100 == 0 ? "Server.ServerProxy.AccessDenied" : MessageLogRecord.StatusOk,
                        Header = Encoding.ASCII.GetBytes($"header|{i}|".PadRight(300, '.')),
                        Body = body,
                        BodySha256 = bodyHash,
                        Signature = new byte[72],
                        SignerCertificateSha256 = certificateHash,
                        SignerCertificate = certificate,
                        CorrelationId = $"corr-{i}",
                    }).ConfigureAwait(false);
                }
            })).ToArray();
            Task.WaitAll(writers);
        }
        finally
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        // Heads (stand-in signatures and tokens: the queries only read them) every HeadEvery records.
        log = SqliteMessageLog.Open(path, new MessageLogOptions { Synchronous = MessageLogSynchronous.Normal }, clock, NullLogger<SqliteMessageLog>.Instance);
        try
        {
            for (var size = (long)HeadEvery; size <= records; size += HeadEvery)
            {
                log.AddTreeHead(new StoredTreeHead(size, log.Reader.TreeRoot(size), Start, [1], [2], [3], [4], null));
            }
        }
        finally
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Console.Error.WriteLine($"LargeLog: wrote {records:N0} records to {path} in {watch.Elapsed.TotalSeconds:F0} s ({records / watch.Elapsed.TotalSeconds:N0} records/s, {new FileInfo(path).Length / 1024 / 1024:N0} MiB)");
        File.WriteAllText(done, records.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return path;
    }
}
