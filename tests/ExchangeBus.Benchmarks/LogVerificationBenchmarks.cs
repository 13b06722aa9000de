// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Registry.TrustServices;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// Full verification of a message log (issues 5 and 19) on a log of <see cref="Records"/> records
/// as a provider's node writes them: requests signed by the client's member and responses by the
/// provider's, 1 KiB bodies kept, real ~200-byte <c>MessageHeader</c>s (each record its own message
/// id and time), a signed head with a real RFC 3161 token every 10,000 records. Every signature is
/// real and verifies. <see cref="Form"/> picks how envelopes were signed: <c>batch</c> as a node's
/// signing queue does under load (issue 19: batches of 64 to 256 envelopes per member, one root
/// signature each, a request batch and its responses' batch interleaved in the log as the calls
/// were answered), or <c>single</c> (one ECDSA signature per envelope, as an idle node signs).
/// Time per operation is per log: records/s = <see cref="Records"/> / Mean.
/// </summary>
/// <remarks>
/// Each log is made once and kept in the temp folder (<c>xbus-verify-bench-FORM-N</c>, ~1.8 GB per
/// million records) for later runs; delete it to make a new one. Records: environment variable
/// <c>XBUS_VERIFY_BENCH_RECORDS</c> (default 1,000,000); forms: <c>XBUS_VERIFY_BENCH_FORMS</c>
/// (default <c>batch,single</c>).
/// Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*LogVerification*'</c>,
/// or, on a machine shared with other work, <c>... -- verify-cpu [runs]</c> for wall and CPU time
/// (<see cref="MeasureCpu"/>; <c>XBUS_VERIFY_BENCH_CASES</c> picks cases by name).
/// </remarks>
public class LogVerificationBenchmarks
{
    private const int HeadEvery = 10_000;
    private const int DistinctBodies = 1_000;
    private const int MinBatch = 64;
    private const string Node = "DEV/GOV/PROVIDER/node1";
    private const string ClientSubsystem = "DEV/GOV/CLIENT/licence";
    private const string Service = "DEV/GOV/PROVIDER/registry/getCitizen/v1";

    private static readonly int Records = int.TryParse(Environment.GetEnvironmentVariable("XBUS_VERIFY_BENCH_RECORDS"), out var n) ? n : 1_000_000;

    /// <summary><c>batch</c> (batch-form signatures, issue 19) or <c>single</c> (one ECDSA signature per envelope).</summary>
    [ParamsSource(nameof(Forms))]
    public string Form { get; set; } = "batch";

    public static IEnumerable<string> Forms() =>
        (Environment.GetEnvironmentVariable("XBUS_VERIFY_BENCH_FORMS") ?? "batch,single").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private string _folder = null!;
    private LogVerifierTrust _trust = null!;
    private MessageLogReader _log = null!;

    [GlobalSetup]
    public void SetUp()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"xbus-verify-bench-{Form}-{Records}");
        if (!File.Exists(Path.Combine(_folder, "complete")))
        {
            if (Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }

            Directory.CreateDirectory(_folder);
            Generate();
        }

        using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_folder, "ca.pem"));
        using var tsa = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_folder, "tsa.pem"));
        _trust = new LogVerifierTrust(NodeId.Parse(Node), [ca], [tsa]);
        _log = MessageLogReader.Open(Path.Combine(_folder, "messagelog.db"));
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        _log.Dispose();
        _trust.Dispose();
    }

    /// <summary>Baseline: the rows read as the chain walk reads them, nothing checked.</summary>
    [Benchmark(Baseline = true, Description = "read the rows only (baseline)")]
    public long ReadRows() => ScanRows(hash: false);

    /// <summary>Baseline: plain SHA-256 over each row's header and body, the bytes a verifier must hash at least.</summary>
    [Benchmark(Description = "read + SHA-256 of header and body (baseline)")]
    public long Sha256Rows() => ScanRows(hash: true);

    [Benchmark(Description = "hash chain only (MessageLogReader.Verify)")]
    public long ChainOnly() => Check(_log.Verify().RecordsChecked);

    [Benchmark(Description = "chain + Merkle + heads")]
    public long ChainMerkleHeads() => Check(new LogVerifier(_log, _trust, new LogVerifierOptions { CheckRecordSignatures = false }).Verify());

    [Benchmark(Description = "full: + every record signature and certificate")]
    public long Full() => Check(new LogVerifier(_log, _trust).Verify());

    /// <summary>
    /// Each case <paramref name="runs"/> times per form, printing wall time, this process's CPU
    /// time (all threads) and records per second of each, then the medians. CPU time is what the
    /// verification costs whatever else the machine runs; wall time on an idle machine of two
    /// cores is about CPU time / 2 where both cores are kept busy.
    /// </summary>
    public static void MeasureCpu(int runs)
    {
        (string Name, Func<LogVerificationBenchmarks, long> Run)[] cases =
        [
            ("read the rows only (baseline)", b => b.ReadRows()),
            ("hash chain only", b => b.ChainOnly()),
            ("chain + Merkle + heads", b => b.ChainMerkleHeads()),
            ("full", b => b.Full()),
        ];
        var only = Environment.GetEnvironmentVariable("XBUS_VERIFY_BENCH_CASES");
        foreach (var form in Forms())
        {
            var bench = new LogVerificationBenchmarks { Form = form };
            bench.SetUp();
            try
            {
                foreach (var (name, run) in cases.Where(c => only is null || only.Contains(c.Name, StringComparison.Ordinal)))
                {
                    var walls = new List<double>();
                    var cpus = new List<double>();
                    for (var i = 0; i < runs; i++)
                    {
                        var process = Process.GetCurrentProcess();
                        var cpu = process.TotalProcessorTime;
                        var wall = Stopwatch.StartNew();
                        var records = run(bench);
                        wall.Stop();
                        process.Refresh();
                        var used = (process.TotalProcessorTime - cpu).TotalSeconds;
                        walls.Add(wall.Elapsed.TotalSeconds);
                        cpus.Add(used);
                        Console.WriteLine($"{form,-6} | {name,-30} | run {i + 1} | {records:N0} records | wall {wall.Elapsed.TotalSeconds,7:F2} s | CPU {used,7:F2} s | {records / wall.Elapsed.TotalSeconds,9:N0}/s wall | {records / used,9:N0}/CPU-s | load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
                    }

                    Console.WriteLine($"{form,-6} | {name,-30} | MEDIAN | wall {Median(walls),7:F2} s | CPU {Median(cpus),7:F2} s | {Records / Median(walls),9:N0}/s wall | {Records / Median(cpus),9:N0}/CPU-s");
                }
            }
            finally
            {
                bench.CleanUp();
            }
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    private static long Check(LogVerificationReport report) =>
        report.IsValid ? report.RecordsChecked : throw new InvalidOperationException($"{report.Problem}: {report.Detail}");

    private static long Check(long records) => records == Records ? records : throw new InvalidOperationException($"{records} records verified.");

    private long ScanRows(bool hash)
    {
        using var connection = new SqliteConnection($"Data Source={_log.Path};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, at, message_id, direction, client, service, user_id, subject_id, issue, status, body_sha256, signature, signer_cert_sha256, correlation_id, prev_hash, hash, header, body FROM records WHERE seq >= $next ORDER BY seq LIMIT 1000;";
        var next = command.Parameters.Add("$next", SqliteType.Integer);
        Span<byte> digest = stackalloc byte[32];
        long rows = 0;
        long seq = 1;
        while (true)
        {
            next.Value = seq;
            var read = 0;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                read++;
                for (var i = 0; i < 16; i++)
                {
                    _ = reader.GetValue(i);
                }

                var header = reader.GetFieldValue<byte[]>(16);
                var body = reader.GetFieldValue<byte[]>(17);
                if (hash)
                {
                    SHA256.HashData(header, digest);
                    SHA256.HashData(body, digest);
                }

                seq = reader.GetInt64(0) + 1;
            }

            rows += read;
            if (read == 0)
            {
                return rows;
            }
        }
    }

    /// <summary>Writes the log with the node's own writer (synchronous=NORMAL, large batches), then the heads as the stamper makes them.</summary>
    private void Generate()
    {
        var started = Stopwatch.StartNew();
        var clock = TimeProvider.System;
        using var ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Bench", "Root CA"), clock);
        var (tsaCertificate, tsaKey) = Issue(ca, CertificateProfile.TimeStamping, CertificateNames.CentralService("DEV", "Bench", "TSA"));
        var (provider, providerKey) = Issue(ca, CertificateProfile.MemberSigning, CertificateNames.MemberSigning("DEV", "GOV", "PROVIDER"));
        var (client, clientKey) = Issue(ca, CertificateProfile.MemberSigning, CertificateNames.MemberSigning("DEV", "GOV", "CLIENT"));
        using var tsa = new TimeStampAuthority(tsaCertificate, tsaKey, clock, NullLogger<TimeStampAuthority>.Instance);
        File.WriteAllText(Path.Combine(_folder, "ca.pem"), ca.Certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_folder, "tsa.pem"), tsaCertificate.ExportCertificatePem());

        var bodies = Enumerable.Range(0, DistinctBodies).Select(_ => RandomNumberGenerator.GetBytes(1024)).ToArray();
        var bodyHashes = bodies.Select(b => SHA256.HashData(b)).ToArray();
        var clientSigner = new EnvelopeSigner(clientKey);
        var providerSigner = new EnvelopeSigner(providerKey);
        var random = new Random(19);
        var path = Path.Combine(_folder, "messagelog.db");
        var options = new MessageLogOptions { Synchronous = MessageLogSynchronous.Normal, MaxBatchSize = 20_000, QueueCapacity = 40_000 };
        var log = SqliteMessageLog.Open(path, options, clock, NullLogger<SqliteMessageLog>.Instance);
        try
        {
            var pending = new List<Task<long>>(2 * BatchSignature.MaxSignerBatch);
            for (var written = 0; written < Records;)
            {
                // One group of calls: the client's node signed their requests in one batch, the
                // provider's node their responses in another; the log holds request, response, ...
                var calls = Math.Max(1, Math.Min(random.Next(MinBatch, BatchSignature.MaxSignerBatch + 1), (Records - written + 1) / 2));
                var requests = new MessageLogRecord[calls];
                var responses = new MessageLogRecord[calls];
                for (var i = 0; i < calls; i++)
                {
                    var body = (written / 2) + i;
                    var messageId = Guid.NewGuid().ToString("N");
                    requests[i] = Unsigned(MessageDirection.ProviderRequest, MessageKind.Request, messageId, bodies[body % DistinctBodies], bodyHashes[body % DistinctBodies], client);
                    responses[i] = Unsigned(MessageDirection.ProviderResponse, MessageKind.Response, messageId, bodies[(body + 1) % DistinctBodies], bodyHashes[(body + 1) % DistinctBodies], provider);
                }

                var requestSignatures = Sign(clientSigner, requests);
                var responseSignatures = Sign(providerSigner, responses);
                for (var i = 0; i < calls && written < Records; i++)
                {
                    pending.Add(log.AppendAsync(requests[i] with { Signature = requestSignatures[i] }).AsTask());
                    written++;
                    if (written < Records)
                    {
                        pending.Add(log.AppendAsync(responses[i] with { Signature = responseSignatures[i] }).AsTask());
                        written++;
                    }
                }

                if (pending.Count >= 10_000)
                {
                    Task.WhenAll(pending).GetAwaiter().GetResult();
                    pending.Clear();
                }
            }

            Task.WhenAll(pending).GetAwaiter().GetResult();
            Console.WriteLine($"// {Records:N0} records written in {started.Elapsed.TotalSeconds:F0} s");
            for (long size = HeadEvery; size <= Records; size += HeadEvery)
            {
                log.AddTreeHead(Head(log, size, providerKey, provider, tsa));
            }
        }
        finally
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
            tsaCertificate.Dispose();
            providerKey.Dispose();
            clientKey.Dispose();
        }

        File.WriteAllText(Path.Combine(_folder, "complete"), started.Elapsed.ToString());
        Console.WriteLine($"// log with heads made in {started.Elapsed.TotalSeconds:F0} s");
    }

    private static StoredTreeHead Head(SqliteMessageLog log, long size, ECDsa key, X509Certificate2 signer, TimeStampAuthority tsa)
    {
        var root = log.Reader.TreeRoot(size);
        var now = DateTimeOffset.UtcNow;
        var head = new TreeHead { Node = Node, TreeSize = (ulong)size, RootHash = ByteString.CopyFrom(root), CreatedAt = Timestamp.FromDateTimeOffset(now) }.ToByteArray();
        var request = Rfc3161TimestampRequest.CreateFromHash(SHA256.HashData(head), HashAlgorithmName.SHA256, requestSignerCertificates: true).Encode();
        TimeStampResponse.TryDecode(tsa.Respond(request), out var response);
        var signature = key.SignData(head, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new StoredTreeHead(size, root, now, head, signature, signer.RawData, response!.Token!.Value.ToArray(), null);
    }

    /// <summary>A record as the provider's node logs it, its signature still to be made.</summary>
    private static MessageLogRecord Unsigned(MessageDirection direction, MessageKind kind, string messageId, byte[] body, byte[] bodySha256, X509Certificate2 signer)
    {
        var header = new MessageHeader
        {
            Kind = kind,
            MessageId = messageId,
            Client = ClientSubsystem,
            Service = Service,
            UserId = "officer-42",
            SubjectId = "VN-CITIZEN-0123456789",
            Issue = "CASE-2030-0001",
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            SenderNode = kind == MessageKind.Request ? "DEV/GOV/CLIENT/node1" : Node,
            RequestHash = kind == MessageKind.Response ? ByteString.CopyFrom(bodySha256) : ByteString.Empty,
        }.ToByteArray();
        return new MessageLogRecord
        {
            MessageId = messageId,
            Direction = direction,
            Client = ClientSubsystem,
            Service = Service,
            UserId = "officer-42",
            SubjectId = "VN-CITIZEN-0123456789",
            Issue = "CASE-2030-0001",
            Status = MessageLogRecord.StatusOk,
            Header = header,
            Body = body,
            BodySha256 = bodySha256,
            Signature = [],
            SignerCertificateSha256 = SHA256.HashData(signer.RawData),
            SignerCertificate = signer.RawData,
            CorrelationId = "corr-" + messageId,
        };
    }

    /// <summary>The envelopes' signatures in the benchmark's form: one batch (as the node's signing queue makes it), or one ECDSA signature each.</summary>
    private byte[][] Sign(EnvelopeSigner signer, MessageLogRecord[] records)
    {
        var toBeSigned = records.Select(r => EnvelopeDigest.FromHashes(SHA256.HashData(r.Header), r.BodySha256)).ToArray();
        return Form == "batch" ? signer.SignBatch(toBeSigned) : toBeSigned.AsParallel().AsOrdered().Select(t => signer.SignDigest(t)).ToArray();
    }

    private static (X509Certificate2 Certificate, ECDsa Key) Issue(CertificateAuthority ca, CertificateProfile profile, X500DistinguishedName subject)
    {
        var key = EcKeys.GenerateP256();
        return (ca.Issue(new CertificateIssueRequest { Subject = subject, PublicKey = new PublicKey(key), Profile = profile }), key);
    }
}
