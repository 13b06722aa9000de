// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Audit.V1;
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
/// Full verification of a message log (issue 5) on a log of <see cref="Records"/> records as a
/// provider's node writes them: requests signed by the client's member and responses by the
/// provider's, 1 KiB bodies kept, ~300-byte headers, a signed head with a real RFC 3161 token every
/// 10,000 records. Every record's signature is real and verifies; 1,000 distinct signed messages
/// are cycled so the log is made in minutes, not hours (each record still has its own sequence,
/// time, chain hash and leaf, and the verifier checks every signature: it caches nothing per
/// signature). Time per operation is per record: records/s = 1 s / Mean.
/// </summary>
/// <remarks>
/// The log is made once and kept in the temp folder (<c>xbus-verify-bench-N</c>, ~1.8 GB per
/// million records) for later runs; delete it to make a new one. Records: environment variable
/// <c>XBUS_VERIFY_BENCH_RECORDS</c> (default 1,000,000).
/// Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*LogVerification*'</c>.
/// </remarks>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MedianColumn]
public class LogVerificationBenchmarks
{
    private const int HeadEvery = 10_000;
    private const int DistinctMessages = 1_000;
    private const string Node = "DEV/GOV/PROVIDER/node1";
    private const string ClientSubsystem = "DEV/GOV/CLIENT/licence";
    private const string Service = "DEV/GOV/PROVIDER/registry/getCitizen/v1";

    private static readonly int Records = int.TryParse(Environment.GetEnvironmentVariable("XBUS_VERIFY_BENCH_RECORDS"), out var n) ? n : 1_000_000;

    private string _folder = null!;
    private LogVerifierTrust _trust = null!;
    private MessageLogReader _log = null!;

    [GlobalSetup]
    public void SetUp()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"xbus-verify-bench-{Records}");
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

        var messages = new MessageLogRecord[DistinctMessages * 2];
        var clientSigner = new EnvelopeSigner(clientKey);
        var providerSigner = new EnvelopeSigner(providerKey);
        for (var i = 0; i < DistinctMessages; i++)
        {
            messages[2 * i] = Signed(MessageDirection.ProviderRequest, i, clientSigner, client);
            messages[(2 * i) + 1] = Signed(MessageDirection.ProviderResponse, i, providerSigner, provider);
        }

        var path = Path.Combine(_folder, "messagelog.db");
        var options = new MessageLogOptions { Synchronous = MessageLogSynchronous.Normal, MaxBatchSize = 20_000, QueueCapacity = 40_000 };
        var log = SqliteMessageLog.Open(path, options, clock, NullLogger<SqliteMessageLog>.Instance);
        try
        {
            const int InFlight = 20_000;
            var pending = new List<Task<long>>(InFlight);
            for (var i = 0; i < Records; i++)
            {
                pending.Add(log.AppendAsync(messages[i % messages.Length]).AsTask());
                if (pending.Count == InFlight)
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

    private static MessageLogRecord Signed(MessageDirection direction, int index, EnvelopeSigner signer, X509Certificate2 certificate)
    {
        var messageId = $"{index:D8}-{Guid.NewGuid()}";
        var header = Encoding.UTF8.GetBytes($"header|{messageId}|{ClientSubsystem}|{Service}|{direction}|".PadRight(300, '.'));
        var body = RandomNumberGenerator.GetBytes(1024);
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
            BodySha256 = SHA256.HashData(body),
            Signature = signer.Sign(header, body),
            SignerCertificateSha256 = SHA256.HashData(certificate.RawData),
            SignerCertificate = certificate.RawData,
            CorrelationId = "corr-" + messageId,
        };
    }

    private static (X509Certificate2 Certificate, ECDsa Key) Issue(CertificateAuthority ca, CertificateProfile profile, X500DistinguishedName subject)
    {
        var key = EcKeys.GenerateP256();
        return (ca.Issue(new CertificateIssueRequest { Subject = subject, PublicKey = new PublicKey(key), Profile = profile }), key);
    }
}
