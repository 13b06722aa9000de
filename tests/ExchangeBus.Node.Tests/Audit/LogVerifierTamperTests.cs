// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Audit;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Full verification of a real node's message log: a bus made real exchanges (signed by both
/// members), the node signed and time-stamped heads at 4, 6 and 10 records with the registry's
/// TSA, and made one more exchange (2 records not yet time-stamped). Each test tampers with a
/// copy of the node's data folder the way someone with the disk would, and the verifier must name
/// the problem and where.
/// </summary>
[NonParallelizable]
public sealed class LogVerifierTamperTests
{
    private const long RecordCount = 12;

    private string _template = null!;
    private string _copy = null!;

    private string LogPath => new NodePaths(_copy).MessageLog;

    [OneTimeSetUp]
    public async Task MakeALog()
    {
        _template = Directory.CreateTempSubdirectory("xbus-verify-template-").FullName;
        await using var bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600, TimeStampingMaxBatch = 4 });
        using var local = bus.LocalChannel();
        var node = bus.ClientNode;
        for (var i = 0; i < 3; i++)
        {
            await TreeHeadStamperTests.Call(local);
        }

        Assert.That((await node.Stamper.StampAsync(CancellationToken.None)).Failure, Is.Null);
        for (var i = 0; i < 2; i++)
        {
            await TreeHeadStamperTests.Call(local);
        }

        Assert.That((await node.Stamper.StampAsync(CancellationToken.None)).Failure, Is.Null);
        await TreeHeadStamperTests.Call(local);
        Assert.That(node.Log.Reader.TreeHeads(0, long.MaxValue, 10).Select(h => h.TreeSize), Is.EqualTo(new long[] { 4, 6, 10 }));
        Assert.That(node.Log.LastSequence(), Is.EqualTo(RecordCount));

        // SQLite's online backup: one consistent snapshot of the live file, as an operator would take it.
        var paths = new NodePaths(Path.GetDirectoryName(node.Log.Path)!);
        using (var source = new SqliteConnection($"Data Source={paths.MessageLog};Mode=ReadOnly;Pooling=False"))
        using (var target = new SqliteConnection($"Data Source={Path.Combine(_template, "messagelog.db")};Pooling=False"))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
        }

        foreach (var file in new[] { paths.Settings, paths.Anchor, paths.GlobalConfigurationCache })
        {
            File.Copy(file, Path.Combine(_template, Path.GetFileName(file)));
        }
    }

    [OneTimeTearDown]
    public void RemoveTemplate() => Directory.Delete(_template, recursive: true);

    [SetUp]
    public void CopyTheFolder()
    {
        _copy = Directory.CreateTempSubdirectory("xbus-verify-").FullName;
        foreach (var file in Directory.GetFiles(_template))
        {
            File.Copy(file, Path.Combine(_copy, Path.GetFileName(file)));
        }
    }

    [TearDown]
    public void RemoveTheCopy()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_copy, recursive: true);
    }

    [Test]
    public void UntouchedLog_Verifies_WithEveryCheckCounted()
    {
        var report = Verify();

        Assert.That(report.IsValid, Is.True, report.Detail);
        Assert.That(report.Problem, Is.Null);
        Assert.That(report.RecordsChecked, Is.EqualTo(RecordCount));
        Assert.That(report.SignaturesChecked, Is.EqualTo(RecordCount), "requests signed by the client's member, responses by the provider's");
        Assert.That(report.CertificatesChecked, Is.EqualTo(2));
        Assert.That(report.HeadsChecked, Is.EqualTo(3));
        Assert.That(report.LastHeadSize, Is.EqualTo(10));
        Assert.That(report.NotYetTimeStamped, Is.EqualTo(2));
    }

    [Test]
    public void UntouchedLog_VerifiesWithSignaturesCheckedOnTheReadingThread()
    {
        var report = Verify(new LogVerifierOptions { SignatureWorkers = 0 });

        Assert.That(report.IsValid, Is.True, report.Detail);
        Assert.That(report.SignaturesChecked, Is.EqualTo(RecordCount));
    }

    [Test]
    public void ARange_Verifies_AndChecksOnlyTheHeadsInIt()
    {
        var report = Verify(new LogVerifierOptions { FromSequence = 5, ToSequence = 8 });

        Assert.That(report.IsValid, Is.True, report.Detail);
        Assert.That(report.RecordsChecked, Is.EqualTo(4));
        Assert.That(report.HeadsChecked, Is.EqualTo(1), "the head at 6");
    }

    [Test]
    public void DeletedRecord_IsMissing()
    {
        Records.Tamper(LogPath, "DELETE FROM records WHERE seq = 5;");

        AssertProblem(Verify(), MessageLogProblems.MissingRecord, sequence: 5);
    }

    [Test]
    public void OneByteOfABody_Changed_IsABodyHashMismatch()
    {
        var body = Records.ReadBlob(LogPath, "body", 3);
        body[body.Length / 2] ^= 0x01;
        Records.Tamper(LogPath, "UPDATE records SET body = $body WHERE seq = 3;", ("$body", body));

        AssertProblem(Verify(), MessageLogProblems.BodyHashMismatch, sequence: 3);
    }

    [Test]
    public void TwoRecordsSwapped_BreakTheLinkAtTheFirst()
    {
        const string columns = "at, message_id, direction, client, service, user_id, subject_id, issue, status, body_sha256, signature, signer_cert_sha256, correlation_id, prev_hash, hash, header, body";
        Records.Tamper(LogPath, $"""
            CREATE TEMP TABLE saved AS SELECT seq, {columns} FROM records WHERE seq IN (3, 4);
            DELETE FROM records WHERE seq IN (3, 4);
            INSERT INTO records (seq, {columns}) SELECT 7 - seq, {columns} FROM saved;
            """);

        AssertProblem(Verify(), MessageLogProblems.BrokenLink, sequence: 3);
    }

    [Test]
    public void TailCutBelowASignedHead_IsTruncated_NamingTheFirstMissingRecordAndTheHead()
    {
        Records.Tamper(LogPath, "DELETE FROM records WHERE seq > 8;");

        var report = Verify();

        AssertProblem(report, MessageLogProblems.Truncated, sequence: 9);
        Assert.That(report.TreeSize, Is.EqualTo(10));
    }

    [Test]
    public void TailCutAfterTheLastHead_IsNotDetectable_AndShowsAsNothingAwaitingATimeStamp()
    {
        Records.Tamper(LogPath, "DELETE FROM records WHERE seq > 10;");

        var report = Verify();

        Assert.That(report.IsValid, Is.True, "nothing outside the file fixes records no head covers yet");
        Assert.That(report.NotYetTimeStamped, Is.Zero);
    }

    [Test]
    public void TimeStampToken_ReplacedByAnotherHeadsValidToken_IsInvalid_AtThatHead()
    {
        Records.Tamper(LogPath, "UPDATE tree_heads SET token = (SELECT token FROM tree_heads WHERE tree_size = 4) WHERE tree_size = 6;");

        AssertProblem(Verify(), MessageLogProblems.TimeStampInvalid, treeSize: 6);
    }

    [Test]
    public void SignerCertificate_ReplacedByAnotherValidCertificate_IsAMismatch_AtTheFirstRecordNamingIt()
    {
        var (provider, client) = SignerHashes();
        Records.Tamper(LogPath, "UPDATE blobs SET der = (SELECT der FROM blobs WHERE sha256 = $client) WHERE sha256 = $provider;", ("$client", client), ("$provider", provider));

        AssertProblem(Verify(), MessageLogProblems.CertificateMismatch, sequence: 2);
    }

    [Test]
    public void SignerCertificate_Deleted_IsMissing_AtTheFirstRecordNamingIt()
    {
        var (provider, _) = SignerHashes();
        Records.Tamper(LogPath, "DELETE FROM blobs WHERE sha256 = $provider;", ("$provider", provider));

        AssertProblem(Verify(), MessageLogProblems.CertificateMissing, sequence: 2);
    }

    [Test]
    public void RootStoredBesideAHead_Changed_IsARootMismatch_AtThatHead()
    {
        Records.Tamper(LogPath, "UPDATE tree_heads SET root_hash = randomblob(32) WHERE tree_size = 6;");

        AssertProblem(Verify(), MessageLogProblems.RootMismatch, treeSize: 6);
    }

    [Test]
    public void HeadSignature_Changed_IsInvalid_AtThatHead()
    {
        Records.Tamper(LogPath, "UPDATE tree_heads SET signature = (SELECT signature FROM tree_heads WHERE tree_size = 4) WHERE tree_size = 10;");

        AssertProblem(Verify(), MessageLogProblems.HeadSignatureInvalid, treeSize: 10);
    }

    [Test]
    public void HeadRow_CreationTimeEdited_DisagreesWithTheSignedBytes()
    {
        Records.Tamper(LogPath, "UPDATE tree_heads SET created_at = created_at - 3600000 WHERE tree_size = 6;");

        AssertProblem(Verify(), MessageLogProblems.HeadMalformed, treeSize: 6);
    }

    [Test]
    public void StoredMerkleNode_Changed_IsANodeMismatch_AtTheFirstHeadReadingIt()
    {
        // Node (2, 0) is the subtree of records 1-4: the root of the head at 4, and part of every later root.
        Records.Tamper(LogPath, "UPDATE merkle_nodes SET hash = randomblob(32) WHERE level = 2 AND idx = 0;");

        AssertProblem(Verify(), MessageLogProblems.MerkleNodeMismatch, treeSize: 4);
    }

    [Test]
    public void RecordSignature_Edited_BreaksTheRecordHash()
    {
        var signature = Records.ReadBlob(LogPath, "signature", 7);
        signature[^1] ^= 0x01;
        Records.Tamper(LogPath, "UPDATE records SET signature = $s WHERE seq = 7;", ("$s", signature));

        AssertProblem(Verify(), MessageLogProblems.HashMismatch, sequence: 7);
    }

    [Test]
    public void RecordSignature_EditedAndTheChainRecomputed_IsAnInvalidSignature_AtThatRecord()
    {
        var signature = Records.ReadBlob(LogPath, "signature", 7);
        signature[^1] ^= 0x01;
        Records.Tamper(LogPath, "UPDATE records SET signature = $s WHERE seq = 7;", ("$s", signature));
        RecomputeChainFrom(7);

        AssertProblem(Verify(), MessageLogProblems.RecordSignatureInvalid, sequence: 7);
    }

    [Test]
    public void RecordEdited_AndTheChainRecomputed_IsCaughtByTheFirstHeadOverIt()
    {
        // A forger who owns the disk: the status of record 5 changed and every hash after it made
        // to match. The chain verifies; the signed, time-stamped head at 6 does not.
        Records.Tamper(LogPath, "UPDATE records SET status = 'Server.ServerProxy.AccessDenied' WHERE seq = 5;");
        RecomputeChainFrom(5);
        Assert.That(VerifyChainOnly().IsValid, Is.True);

        AssertProblem(Verify(), MessageLogProblems.RootMismatch, treeSize: 6);
    }

    [Test]
    public async Task Xbus_AuditVerify_ExitsZeroOnTheCopy_AndThreeNamingTheProblemOnceTampered()
    {
        var clean = await XbusProcess.RunAsync("audit", "verify", "--data", _copy);
        Assert.That(clean.Exit, Is.Zero, clean.ToString());
        Assert.That(clean.Output, Does.Contain("valid: records 1 to 12").And.Contain("not yet time-stamped: 2 records"));

        var json = await XbusProcess.RunAsync("audit", "verify", "--data", _copy, "--json");
        Assert.That(json.Exit, Is.Zero, json.ToString());
        Assert.That(json.Output, Does.Contain("\"valid\":true").And.Contain("\"heads_checked\":3"));

        Records.Tamper(LogPath, "DELETE FROM records WHERE seq > 8;");
        var tampered = await XbusProcess.RunAsync("audit", "verify", "--data", _copy);

        Assert.That(tampered.Exit, Is.EqualTo(3), tampered.ToString());
        Assert.That(tampered.Error, Does.Contain("error MessageLog.Truncated:"));
        Assert.That(tampered.Output, Does.Contain("NOT VALID: MessageLog.Truncated at record 9"));
    }

    [Test]
    public async Task Xbus_AuditVerify_WithAnAnchorThatDoesNotVouchForTheConfiguration_CannotRun()
    {
        var other = Path.Combine(_copy, "other-anchor.json");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            // Another registry's configuration-signing key, and the bus's own TLS roots: only the signer differs.
            var request = new CertificateRequest("CN=another registry", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            using var signing = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var own = ConfigurationAnchor.Read(new NodePaths(_copy).Anchor);
            ConfigurationAnchor.Create(own.Instance, own.RegistryAddress, [signing], own.RegistryTlsTrustRoots, DateTimeOffset.UtcNow).Write(other);
        }

        var result = await XbusProcess.RunAsync("audit", "verify", "--data", _copy, "--anchor", other);

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.Contain("error GlobalConf.UnknownSigner"));
    }

    /// <summary>Every column of a record row but its sequence number (the row's identity).</summary>
    private static readonly string[] RecordColumns =
    [
        "at", "message_id", "direction", "client", "service", "user_id", "subject_id", "issue", "status",
        "body_sha256", "signature", "signer_cert_sha256", "correlation_id", "prev_hash", "hash", "header", "body",
    ];

    [Test]
    public void AnySingleChangeToOneColumnOfOneRecord_IsFound_AtThatRecord()
    {
        // FsCheck picks a record, a column and a new value for it (docs/reliability.md, "Random input"):
        // integers moved, text with one character changed, added or removed, blobs mutated like
        // envelopes, NULLs filled and nullable values emptied. Each case edits a fresh copy of the file.
        var values = (from seq in Enumerable.Range(1, (int)RecordCount)
                      from column in RecordColumns
                      select (seq, column, value: Records.ReadValue(LogPath, column, seq)))
                     .ToDictionary(v => (v.seq, v.column), v => v.value);
        var changes = from seq in Gen.Choose(1, (int)RecordCount)
                      from column in Gen.Elements(RecordColumns)
                      from value in ChangeOf(values[(seq, column)], nullable: column is "subject_id" or "signer_cert_sha256" or "body")
                      select (seq, column, value);
        var problems = new Dictionary<string, int>(StringComparer.Ordinal);
        using var trust = LogVerifierTrust.Load(_copy, anchorPath: null);
        var path = Path.Combine(_copy, "case.db");

        Prop.ForAll(changes.ToArbitrary(), change =>
        {
            var what = $"record {change.seq}, {change.column} = {Show(change.value)}";
            File.Copy(LogPath, path, overwrite: true);
            try
            {
                Records.Tamper(path, $"UPDATE records SET {change.column} = $value WHERE seq = $seq;", ("$value", change.value ?? DBNull.Value), ("$seq", change.seq));
                LogVerificationReport report;
                using (var log = MessageLogReader.Open(path))
                {
                    report = new LogVerifier(log, trust).Verify();
                }

                Assert.That(report.IsValid, Is.False, what);
                Assert.That(report.Sequence, Is.EqualTo(change.seq), $"{what}: {report.Problem} {report.Detail}");
                problems[report.Problem!] = problems.GetValueOrDefault(report.Problem!) + 1;
            }
            finally
            {
                SqliteConnection.ClearAllPools();
                File.Delete(path);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));

        TestContext.Out.WriteLine("problems: " + string.Join(", ", problems.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")));
        Assert.That(Verify().IsValid, Is.True, "the untouched copy still verifies");
    }

    /// <summary>A value other than <paramref name="value"/> of the same SQLite type (or NULL, where the column allows it).</summary>
    private static Gen<object?> ChangeOf(object? value, bool nullable)
    {
        var changed = value switch
        {
            long number => Gen.Choose(1, 1_000_000).SelectMany(d => Gen.Elements<object?>(number + d, number - d)),
            "" => Gen.Constant<object?>("x"),
            string text => from position in Gen.Choose(0, text.Length - 1)
                           from how in Gen.Choose(0, 2)
                           select (object?)(how switch
                           {
                               0 => text[..position] + (char)(text[position] ^ 1) + text[(position + 1)..],
                               1 => text.Insert(position, "x"),
                               _ => text.Length > 1 ? text.Remove(position, 1) : text + "x",
                           }),
            byte[] blob => ByteMutations.Of(blob).Select(m => (object?)m.Apply(blob)),
            // NULL: a subject where there was none, a certificate hash or a body where none was kept.
            _ => Gen.Elements<object?>("VN-CITIZEN-0000000001", new byte[32]),
        };
        return nullable && value is not null ? Gen.Frequency((4, changed), (1, Gen.Constant<object?>(null))) : changed;
    }

    private static string Show(object? value) => value switch
    {
        null => "NULL",
        byte[] blob => $"{blob.Length} bytes",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
    };

    private LogVerificationReport Verify(LogVerifierOptions? options = null)
    {
        using var trust = LogVerifierTrust.Load(_copy, anchorPath: null);
        using var log = MessageLogReader.Open(LogPath);
        return new LogVerifier(log, trust, options).Verify();
    }

    private MessageLogVerification VerifyChainOnly()
    {
        using var log = MessageLogReader.Open(LogPath);
        return log.Verify();
    }

    private static void AssertProblem(LogVerificationReport report, string problem, long? sequence = null, long? treeSize = null)
    {
        Assert.That(report.IsValid, Is.False);
        Assert.That(report.Problem, Is.EqualTo(problem), report.Detail);
        if (sequence is not null)
        {
            Assert.That(report.Sequence, Is.EqualTo(sequence), report.Detail);
        }

        if (treeSize is not null)
        {
            Assert.That(report.TreeSize, Is.EqualTo(treeSize), report.Detail);
        }
    }

    /// <summary>SHA-256 of the provider's signing certificate (signs responses, record 2 first) and of the client's (record 1).</summary>
    private (byte[] Provider, byte[] Client) SignerHashes() =>
        (Records.ReadBlob(LogPath, "signer_cert_sha256", 2), Records.ReadBlob(LogPath, "signer_cert_sha256", 1));

    private void RecomputeChainFrom(long sequence) => Records.RecomputeChainFrom(LogPath, sequence);
}
