// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Registry.TrustServices;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// Exporting one exchange's evidence bundle from a large message log, as the node's audit API
/// and <c>xbus audit export</c> do it without the network: find the records of the message id,
/// read each with its certificate and OCSP response, find the first head covering it and its
/// inclusion proof (O(log n) point reads of <c>merkle_nodes</c>), and build the zip. Beside it
/// the baseline, <c>GetEvidence</c> of the same two records alone (no proof, no zip). Message ids
/// rotate over 256 random exchanges of the log.
/// </summary>
/// <remarks>
/// Run: <c>XBUS_BUNDLE_BENCH_RECORDS=10000000 dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*EvidenceBundle*' --job short</c>.
/// The log (real records: ~300-byte header, 256-byte body, a signer certificate and OCSP
/// response, one signed and time-stamped head over all of it) is generated once into
/// <c>XBUS_BUNDLE_BENCH_DIR</c> (default: the temp folder) and reused by later runs of the same size.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class EvidenceBundleBenchmarks
{
    private const int Appenders = 64;
    private const int Samples = 256;

    private SqliteMessageLog _log = null!;
    private string[] _messageIds = null!;
    private X509Certificate2 _root = null!;
    private int _next;

    public static long Records { get; } = long.Parse(Environment.GetEnvironmentVariable("XBUS_BUNDLE_BENCH_RECORDS") ?? "1000000", CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var folder = Environment.GetEnvironmentVariable("XBUS_BUNDLE_BENCH_DIR") ?? Path.GetTempPath();
        var path = Path.Combine(folder, $"xbus-bundle-bench-{Records}.db");
        var rootPath = path + ".root.pem";
        if (!File.Exists(rootPath))
        {
            Generate(path, rootPath);
        }

        _root = X509Certificate2.CreateFromPem(File.ReadAllText(rootPath));
        _log = SqliteMessageLog.Open(path, new MessageLogOptions(), TimeProvider.System, NullLogger<SqliteMessageLog>.Instance);
        var pairs = Records / 2 / Appenders;
        var random = new Random(5);
        _messageIds = [.. Enumerable.Range(0, Samples).Select(_ => MessageId(random.Next(Appenders), random.NextInt64(pairs)))];
        if (Export() is not { Length: > 0 })
        {
            throw new InvalidOperationException("No bundle.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _root.Dispose();
    }

    [Benchmark(Baseline = true, Description = "GetEvidence of the exchange's two records (baseline)")]
    public int GetEvidence()
    {
        var reader = _log.Reader;
        return reader.FindByMessageId(_messageIds[Next()]).Sum(e => reader.GetEvidence(e.Sequence)!.Entry.Record.Header.Length);
    }

    [Benchmark(Description = "GetRecord evidence of both: + first covering head + inclusion proof")]
    public int RecordEvidence() => Evidence(_messageIds[Next()]).Sum(e => e.Inclusion.Hashes.Count);

    [Benchmark(Description = "Export: evidence of both + bundle zip built")]
    public int ExportBundle() => Export().Length;

    private byte[] Export() => EvidenceBundle.Build(Evidence(_messageIds[Next()]), [_root]);

    private List<RecordEvidence> Evidence(string messageId)
    {
        var reader = _log.Reader;
        return [.. reader.FindByMessageId(messageId).Select(e => AuditEvidence.ToProto(reader.GetEvidence(e.Sequence)!, reader))];
    }

    private int Next() => _next = (_next + 1) % Samples;

    private static string MessageId(int appender, long pair) => string.Create(CultureInfo.InvariantCulture, $"m-{appender}-{pair}");

    /// <summary>The log: request and response records of <see cref="Records"/>/2 exchanges, then one signed, time-stamped head over all.</summary>
    private static void Generate(string path, string rootPath)
    {
        var clock = TimeProvider.System;
        using var ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Bench", "Root CA"), clock);
        using var memberKey = EcKeys.GenerateP256();
        using var member = ca.Issue(new CertificateIssueRequest { Subject = CertificateNames.MemberSigning("VN", "GOV", "000.00.00.H01"), PublicKey = new PublicKey(memberKey), Profile = CertificateProfile.MemberSigning });
        using var tsaKey = EcKeys.GenerateP256();
        using var tsaCertificate = ca.Issue(new CertificateIssueRequest { Subject = CertificateNames.CentralService("VN", "Bench", "TSA"), PublicKey = new PublicKey(tsaKey), Profile = CertificateProfile.TimeStamping });
        using var ocspKey = EcKeys.GenerateP256();
        using var ocspCertificate = ca.Issue(new CertificateIssueRequest { Subject = CertificateNames.CentralService("VN", "Bench", "OCSP"), PublicKey = new PublicKey(ocspKey), Profile = CertificateProfile.OcspSigning });
        using var tsa = new TimeStampAuthority(tsaCertificate, tsaKey, clock, NullLogger<TimeStampAuthority>.Instance);
        var statuses = new InMemoryCertificateStatusSource();
        statuses.SetGood(member);
        using var responder = new OcspResponder(ca.Certificate, ocspCertificate, ocspKey, statuses, clock, NullLogger<OcspResponder>.Instance);
        var ocsp = responder.Respond(OcspClient.CreateRequest(member, ca.Certificate, RandomNumberGenerator.GetBytes(OcspClient.NonceBytes)));

        File.Delete(path);
        var log = SqliteMessageLog.Open(path, new MessageLogOptions { Synchronous = MessageLogSynchronous.Normal, QueueCapacity = 100_000 }, clock, NullLogger<SqliteMessageLog>.Instance);
        var pairs = Records / 2 / Appenders;
        var body = Encoding.UTF8.GetBytes(new string('b', 256));
        var header = Encoding.UTF8.GetBytes("header|VN/GOV/000.00.00.G01/dossier|VN/GOV/000.00.00.H01/registry/getCitizen/v1|".PadRight(300, '.'));
        var tbs = (byte[])[.. SHA256.HashData(header), .. SHA256.HashData(body)];
        var signature = memberKey.SignData(tbs, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Task.WaitAll([.. Enumerable.Range(0, Appenders).Select(a => Task.Run(async () =>
        {
            for (long i = 0; i < pairs; i++)
            {
                foreach (var direction in new[] { MessageDirection.ProviderRequest, MessageDirection.ProviderResponse })
                {
                    await log.AppendAsync(new MessageLogRecord
                    {
                        MessageId = MessageId(a, i),
                        Direction = direction,
                        Client = "VN/GOV/000.00.00.G01/dossier",
                        Service = "VN/GOV/000.00.00.H01/registry/getCitizen/v1",
                        UserId = "officer-42",
                        SubjectId = "VN-CITIZEN-0123456789",
                        Status = MessageLogRecord.StatusOk,
                        Header = header,
                        Body = body,
                        BodySha256 = SHA256.HashData(body),
                        Signature = signature,
                        SignerCertificateSha256 = SHA256.HashData(member.RawData),
                        SignerCertificate = member.RawData,
                        OcspResponse = ocsp,
                        CorrelationId = "bench",
                    });
                }
            }
        }))]);

        var size = log.LastSequence();
        var now = clock.GetUtcNow();
        var head = new TreeHead { Node = "VN/GOV/000.00.00.H01/ss1", TreeSize = (ulong)size, RootHash = ByteString.CopyFrom(log.Reader.TreeRoot(size)), CreatedAt = Timestamp.FromDateTimeOffset(now) }.ToByteArray();
        var request = Rfc3161TimestampRequest.CreateFromHash(SHA256.HashData(head), HashAlgorithmName.SHA256, nonce: RandomNumberGenerator.GetBytes(8), requestSignerCertificates: true).Encode();
        TimeStampResponse.TryDecode(tsa.Respond(request), out var response);
        log.AddTreeHead(new StoredTreeHead(size, log.Reader.TreeRoot(size), now, head, memberKey.SignData(head, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            member.RawData, response!.Token!.Value.ToArray(), null));
        log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        File.WriteAllText(rootPath, ca.Certificate.ExportCertificatePem());
    }
}
