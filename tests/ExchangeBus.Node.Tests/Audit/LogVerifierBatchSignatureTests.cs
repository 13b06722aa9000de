// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Audit;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.MessageLog;
using ExchangeBus.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Full verification of a log whose records carry batch-form signatures, as a node's signing
/// queue makes them under load (docs/design/envelope-signature.md, "Batch form"): two groups of
/// calls, each group's requests signed in one batch by the client's member and its responses
/// in one by the provider's, logged request, response, request, ... A forger with the disk
/// edits a signature or a record and recomputes the chain; the verifier, which checks each
/// root signature once per pass, must still find the record.
/// </summary>
[NonParallelizable]
public sealed class LogVerifierBatchSignatureTests
{
    private const string ClientMember = "VN/GOV/000.00.00.G01";
    private const string ProviderMember = "VN/GOV/000.00.00.H01";

    // Group A: calls 1-4, records 1-8; group B: calls 5-7, records 9-14. Requests are the odd records.
    private static readonly int[] Groups = [4, 3];

    private TempLogFolder _folder = null!;
    private CertificateAuthority _ca = null!;
    private ECDsa _clientKey = null!;
    private ECDsa _forgerKey = null!;
    private string _template = null!;
    private string _copy = null!;

    [OneTimeSetUp]
    public async Task MakeALog()
    {
        _folder = new TempLogFolder();
        _ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Test", "Root CA"), TimeProvider.System);
        _forgerKey = EcKeys.GenerateP256();
        (var client, _clientKey) = Issue("000.00.00.G01");
        (var provider, var providerKey) = Issue("000.00.00.H01");
        _template = _folder.PathOf("template.db");
        await using (var log = Records.Open(_template, TimeProvider.System))
        {
            var call = 0;
            foreach (var size in Groups)
            {
                var requests = Enumerable.Range(call, size).Select(i => Unsigned($"call-{i}", MessageDirection.ProviderRequest, client)).ToArray();
                var responses = Enumerable.Range(call, size).Select(i => Unsigned($"call-{i}", MessageDirection.ProviderResponse, provider)).ToArray();
                var requestSignatures = new EnvelopeSigner(_clientKey).SignBatch(requests.Select(ToBeSigned).ToArray());
                var responseSignatures = new EnvelopeSigner(providerKey).SignBatch(responses.Select(ToBeSigned).ToArray());
                for (var i = 0; i < size; i++)
                {
                    await log.AppendAsync(requests[i] with { Signature = requestSignatures[i] });
                    await log.AppendAsync(responses[i] with { Signature = responseSignatures[i] });
                }

                call += size;
            }
        }

        client.Dispose();
        provider.Dispose();
        providerKey.Dispose();
    }

    [OneTimeTearDown]
    public void RemoveTheLog()
    {
        _clientKey.Dispose();
        _forgerKey.Dispose();
        _ca.Dispose();
        _folder.Dispose();
    }

    [SetUp]
    public void CopyTheLog()
    {
        _copy = _folder.PathOf($"case-{Guid.NewGuid():N}.db");
        File.Copy(_template, _copy);
    }

    [TearDown]
    public void RemoveTheCopy()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_copy);
    }

    [TestCase(2)]
    [TestCase(0)]
    public void UntouchedLog_Verifies_EveryRecordsSignatureCounted(int signatureWorkers)
    {
        var report = Verify(new LogVerifierOptions { SignatureWorkers = signatureWorkers });

        Assert.That(report.IsValid, Is.True, report.Detail);
        Assert.That(report.RecordsChecked, Is.EqualTo(14));
        Assert.That(report.SignaturesChecked, Is.EqualTo(14), "every record's path, and each of the four roots once");
        Assert.That(report.CertificatesChecked, Is.EqualTo(2));
    }

    [Test]
    public void AHashOfARecordsPath_Changed_IsAnInvalidSignature_AtThatRecord()
    {
        var signature = Records.ReadBlob(_copy, "signature", 3);
        signature[42] ^= 0x01;
        Forge(3, signature);

        AssertInvalidSignature(Verify(), 3);
    }

    [Test]
    public void TwoLeavesOfABatch_Swapped_AreAnInvalidSignature_AtTheFirst()
    {
        var first = Records.ReadBlob(_copy, "signature", 1);
        var second = Records.ReadBlob(_copy, "signature", 3);
        Records.Tamper(_copy, "UPDATE records SET signature = $s WHERE seq = 3;", ("$s", first));
        Forge(1, second);

        AssertInvalidSignature(Verify(), 1);
    }

    [Test]
    public void ARecordsHeader_Edited_NoLongerLeadsToTheSignedRoot()
    {
        var header = Records.ReadBlob(_copy, "header", 6);
        header[^1] ^= 0x01;
        Records.Tamper(_copy, "UPDATE records SET header = $h WHERE seq = 6;", ("$h", header));
        Records.RecomputeChainFrom(_copy, 6);

        AssertInvalidSignature(Verify(), 6);
    }

    [Test]
    public void ABatchRootSignedByAnotherKey_IsAnInvalidSignature_AtItsFirstRecord()
    {
        // Same envelopes, so the same root and paths: only the root signature is the forger's.
        var forged = ForgedRequestSignatures(group: 1);
        Records.Tamper(_copy, "UPDATE records SET signature = $s WHERE seq = 11;", ("$s", forged[1]));
        Records.Tamper(_copy, "UPDATE records SET signature = $s WHERE seq = 13;", ("$s", forged[2]));
        Forge(9, forged[0]);

        AssertInvalidSignature(Verify(), 9);
    }

    [Test]
    public void OneRecordCarryingAVerifiedRoot_WithAnotherKeysRootSignature_IsFound()
    {
        // Records 9 and 13 carry the genuine root signature (verified once); record 11 the same
        // root and path under the forger's: the pass must not take it for the root it checked.
        Forge(11, ForgedRequestSignatures(group: 1)[1]);

        AssertInvalidSignature(Verify(), 11);
    }

    [Test]
    public void AnySingleByteChangeToABatchSignature_IsFound_AtThatRecord()
    {
        var changes = from seq in Gen.Choose(1, 14)
                      from mutation in ByteMutations.Of(Records.ReadBlob(_template, "signature", seq))
                      select (seq, mutation);

        Prop.ForAll(changes.ToArbitrary(), change =>
        {
            // A file of its own per case: a WAL left by the last case's readers must not replay onto this one.
            _copy = _folder.PathOf($"case-{Guid.NewGuid():N}.db");
            File.Copy(_template, _copy);
            var signature = change.mutation.Apply(Records.ReadBlob(_copy, "signature", change.seq));
            Forge(change.seq, signature);

            var report = Verify();
            SqliteConnection.ClearAllPools();
            Assert.That(report.IsValid, Is.False, $"record {change.seq}, {change.mutation}");
            Assert.That(report.Sequence, Is.EqualTo(change.seq), $"record {change.seq}, {change.mutation}: {report.Problem} {report.Detail}");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    private static MessageLogRecord Unsigned(string messageId, MessageDirection direction, X509Certificate2 signer) =>
        Records.Make(messageId, direction) with
        {
            SignerCertificateSha256 = SHA256.HashData(signer.RawData),
            SignerCertificate = signer.RawData,
        };

    private static byte[] ToBeSigned(MessageLogRecord record) => EnvelopeDigest.FromHashes(SHA256.HashData(record.Header), record.BodySha256);

    /// <summary>The requests of a group signed as one batch by the forger's key, over the envelopes as logged.</summary>
    private byte[][] ForgedRequestSignatures(int group)
    {
        var first = (2 * Groups.Take(group).Sum()) + 1;
        using var log = MessageLogReader.Open(_template);
        var toBeSigned = Enumerable.Range(0, Groups[group]).Select(i => ToBeSigned(log.Get(first + (2 * i))!.Record)).ToArray();
        return new EnvelopeSigner(_forgerKey).SignBatch(toBeSigned);
    }

    private void Forge(long sequence, byte[] signature)
    {
        Records.Tamper(_copy, "UPDATE records SET signature = $s WHERE seq = $seq;", ("$s", signature), ("$seq", sequence));
        Records.RecomputeChainFrom(_copy, sequence);
    }

    private LogVerificationReport Verify(LogVerifierOptions? options = null)
    {
        using var trust = new LogVerifierTrust(NodeId.Parse($"{ProviderMember}/node1"), [_ca.Certificate], []);
        using var log = MessageLogReader.Open(_copy);
        return new LogVerifier(log, trust, options).Verify();
    }

    private static void AssertInvalidSignature(LogVerificationReport report, long sequence)
    {
        Assert.That(report.IsValid, Is.False);
        Assert.That(report.Problem, Is.EqualTo(MessageLogProblems.RecordSignatureInvalid), report.Detail);
        Assert.That(report.Sequence, Is.EqualTo(sequence), report.Detail);
    }

    private (X509Certificate2 Certificate, ECDsa Key) Issue(string memberCode)
    {
        var key = EcKeys.GenerateP256();
        var certificate = _ca.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.MemberSigning("VN", "GOV", memberCode),
            PublicKey = new PublicKey(key),
            Profile = CertificateProfile.MemberSigning,
        });
        return (certificate, key);
    }
}
