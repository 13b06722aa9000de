// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Tests.Pki;
using ExchangeBus.Core.TrustServices;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Core.Tests.TrustServices;

public sealed class TimeStampTokenVerifierTests
{
    private static readonly byte[] Data = "Merkle tree head of records 1..10000"u8.ToArray();
    private static readonly byte[] DataHash = SHA256.HashData(Data);

    private FakeTimeProvider clock = null!;
    private CertificateAuthority ca = null!;
    private X509Certificate2 tsa = null!;
    private TimeStampTokenVerifier verifier = null!;

    [SetUp]
    public void SetUp()
    {
        clock = new FakeTimeProvider(TestClock.Start);
        ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        tsa = IssueWithKey(ca, CertificateProfile.TimeStamping, "TSA");
        verifier = new TimeStampTokenVerifier([tsa], [ca.Certificate], clock);
    }

    [TearDown]
    public void TearDown()
    {
        verifier.Dispose();
        tsa.Dispose();
        ca.Dispose();
    }

    [Test]
    public void GoodToken_ForData_IsValid_WithItsTimePolicyAndSigner()
    {
        var genTime = clock.GetUtcNow().AddSeconds(-3);
        var token = TestTokens.Create(tsa, DataHash, genTime);

        var result = verifier.VerifyTokenForData(token, Data);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.Code, Is.Null);
            Assert.That(result.GenTime, Is.EqualTo(genTime));
            Assert.That(result.PolicyOid, Is.EqualTo(TestTokens.Policy));
            Assert.That(result.SerialNumber, Has.Length.EqualTo(32));
            Assert.That(result.Signer!.RawData, Is.EqualTo(tsa.RawData));
            Assert.That(result.Token.ToArray(), Is.EqualTo(token));
        }
    }

    [Test]
    public void GoodToken_ForHash_IsValid()
    {
        var result = verifier.VerifyTokenForHash(TestTokens.Create(tsa, DataHash, clock.GetUtcNow()), DataHash);

        Assert.That(result.IsValid, Is.True, result.ToString());
    }

    [Test]
    public void Sha512Token_ForData_IsValid_ForSha256Hash_IsImprintMismatch()
    {
        var token = TestTokens.Create(tsa, SHA512.HashData(Data), clock.GetUtcNow(), hashOid: "2.16.840.1.101.3.4.2.3");

        Assert.That(verifier.VerifyTokenForData(token, Data).IsValid, Is.True);
        Assert.That(verifier.VerifyTokenForHash(token, DataHash).Code, Is.EqualTo(TrustServiceErrors.TimeStampImprintMismatch));
    }

    [Test]
    public void TokenForOtherData_IsImprintMismatch()
    {
        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow());

        var result = verifier.VerifyTokenForData(token, "Merkle tree head of records 1..10001"u8);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.False);
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampImprintMismatch));
            Assert.That(result.Errors, Has.Count.EqualTo(1));
        }
    }

    [Test]
    public void Sha1Token_IsUnsupportedAlgorithm()
    {
        var token = TestTokens.Create(tsa, SHA1.HashData(Data), clock.GetUtcNow(), hashOid: "1.3.14.3.2.26");

        Assert.That(verifier.VerifyTokenForData(token, Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampUnsupportedAlgorithm));
    }

    [Test]
    public void TokenFromAnUntrustedTsa_IsUntrustedSigner()
    {
        using var foreignCa = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        using var foreignTsa = IssueWithKey(foreignCa, CertificateProfile.TimeStamping, "TSA");

        var result = verifier.VerifyTokenForData(TestTokens.Create(foreignTsa, DataHash, clock.GetUtcNow()), Data);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampUntrustedSigner));
            Assert.That(result.Errors.Select(e => e.Code), Does.Not.Contain(TrustServiceErrors.TimeStampInvalidSignature));
        }
    }

    [Test]
    public void TsaChainingToATrustedRoot_IsTrustedWithoutPinning()
    {
        using var second = IssueWithKey(ca, CertificateProfile.TimeStamping, "Second TSA");
        using var rootsOnly = new TimeStampTokenVerifier([], [ca.Certificate], clock);

        var result = rootsOnly.VerifyTokenForData(TestTokens.Create(second, DataHash, clock.GetUtcNow()), Data);

        Assert.That(result.IsValid, Is.True, result.ToString());
    }

    [Test]
    public void PinnedTsaOnly_RefusesAnotherTsaOfTheSameCa()
    {
        using var second = IssueWithKey(ca, CertificateProfile.TimeStamping, "Second TSA");
        using var pinnedOnly = new TimeStampTokenVerifier([tsa], [], clock);

        var result = pinnedOnly.VerifyTokenForData(TestTokens.Create(second, DataHash, clock.GetUtcNow()), Data);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampUntrustedSigner));
    }

    [Test]
    public void SignerWithoutAnyExtendedKeyUsage_IsUntrustedSigner_EvenWhenPinned()
    {
        using var member = IssueWithKey(ca, CertificateProfile.MemberSigning, "MEMBER");
        using var pinning = new TimeStampTokenVerifier([member], [ca.Certificate], clock);

        var result = pinning.VerifyTokenForData(TestTokens.Create(member, DataHash, clock.GetUtcNow()), Data);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampUntrustedSigner));
            Assert.That(result.Errors[0].Message, Does.Contain("critical"));
        }
    }

    [Test]
    public void SignerWithNonCriticalTimeStampingUsage_IsUntrustedSigner_EvenWhenPinned()
    {
        using var key = EcKeys.GenerateP256();
        var request = new CertificateRequest("CN=Almost a TSA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.8")], critical: false));
        using var almost = request.CreateSelfSigned(clock.GetUtcNow().AddDays(-1), clock.GetUtcNow().AddDays(30));
        using var pinning = new TimeStampTokenVerifier([almost], [], clock);

        var result = pinning.VerifyTokenForData(TestTokens.Create(almost, DataHash, clock.GetUtcNow()), Data);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampUntrustedSigner));
    }

    [Test]
    public void TokenWithoutCertificate_FromAPinnedTsa_IsValid_OtherwiseUntrustedSigner()
    {
        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow(), includeCertificate: false);
        using var rootsOnly = new TimeStampTokenVerifier([], [ca.Certificate], clock);

        Assert.That(verifier.VerifyTokenForData(token, Data).IsValid, Is.True);
        Assert.That(rootsOnly.VerifyTokenForData(token, Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampUntrustedSigner));
    }

    [Test]
    public void TamperedTokenContent_IsInvalidSignature()
    {
        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow());
        var genTime = Encoding.ASCII.GetBytes(clock.GetUtcNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture));
        var at = token.AsSpan().IndexOf(genTime);
        Assert.That(at, Is.GreaterThan(0));

        // One year later, as a forger would want; the TSTInfo still decodes.
        token[at + 3]++;
        var result = verifier.VerifyTokenForData(token, Data);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampInvalidSignature));
            Assert.That(result.GenTime, Is.EqualTo(clock.GetUtcNow().AddYears(1)));
        }
    }

    [Test]
    public void TamperedSignatureBytes_IsInvalidSignature()
    {
        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow(), includeCertificate: false);

        // The ECDSA signature is the last element of a token without certificates: flip a bit in its s value.
        token[^3] ^= 0x01;

        Assert.That(verifier.VerifyTokenForData(token, Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampInvalidSignature));
    }

    [Test]
    public void EssBindingNamingAnotherCertificate_IsInvalidSignature()
    {
        using var second = IssueWithKey(ca, CertificateProfile.TimeStamping, "Second TSA");

        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow(), essCertificate: second);

        Assert.That(verifier.VerifyTokenForData(token, Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampInvalidSignature));
    }

    [Test]
    public void TokenFromTheFuture_IsRefused_WithinTheSkew_IsAccepted()
    {
        var future = TestTokens.Create(tsa, DataHash, clock.GetUtcNow().AddMinutes(10));
        var slightlyAhead = TestTokens.Create(tsa, DataHash, clock.GetUtcNow().AddMinutes(4));

        Assert.That(verifier.VerifyTokenForData(future, Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampFromTheFuture));
        Assert.That(verifier.VerifyTokenForData(slightlyAhead, Data).IsValid, Is.True);
    }

    [Test]
    public void Token_StaysValid_AfterTheTsaCertificateExpires()
    {
        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow());

        clock.Advance(TimeSpan.FromDays(3 * 365));

        Assert.That(verifier.VerifyTokenForData(token, Data).IsValid, Is.True, "judged at genTime, not today");
    }

    [Test]
    public void TokenDatedAfterTheTsaCertificateExpired_IsUntrustedSigner()
    {
        clock.Advance(TimeSpan.FromDays(3 * 365));

        var result = verifier.VerifyTokenForData(TestTokens.Create(tsa, DataHash, clock.GetUtcNow()), Data);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampUntrustedSigner));
    }

    [Test]
    public void UnacceptedPolicy_IsReported()
    {
        using var strict = new TimeStampTokenVerifier([tsa], [], clock, new TimeStampVerifierOptions { AcceptedPolicies = ["1.2.3.4"] });

        var result = strict.VerifyTokenForData(TestTokens.Create(tsa, DataHash, clock.GetUtcNow()), Data);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampUnacceptedPolicy));
    }

    [Test]
    public void SeveralProblems_AreAllReported_MostTellingFirst()
    {
        using var foreignCa = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        using var foreignTsa = IssueWithKey(foreignCa, CertificateProfile.TimeStamping, "TSA");

        var result = verifier.VerifyTokenForData(TestTokens.Create(foreignTsa, DataHash, clock.GetUtcNow().AddHours(1)), "other"u8);

        Assert.That(
            result.Errors.Select(e => e.Code),
            Is.EqualTo(new[]
            {
                TrustServiceErrors.TimeStampUntrustedSigner,
                TrustServiceErrors.TimeStampImprintMismatch,
                TrustServiceErrors.TimeStampFromTheFuture,
            }));
    }

    [TestCase("")]
    [TestCase("30")]
    [TestCase("3003020101")]
    [TestCase("300d06092a864886f70d010702a000")]
    public void Garbage_IsMalformed(string hex)
    {
        Assert.That(verifier.VerifyTokenForData(Convert.FromHexString(hex), Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampMalformed));
    }

    [Test]
    public void TrailingBytesOrOversize_IsMalformed()
    {
        var token = TestTokens.Create(tsa, DataHash, clock.GetUtcNow());

        Assert.That(verifier.VerifyTokenForData([.. token, 0], Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampMalformed));
        Assert.That(verifier.VerifyTokenForData(new byte[TimeStampVerifierOptions.DefaultMaxTokenBytes + 1], Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampMalformed));
    }

    [Test]
    public void CmsThatIsNotATimeStampToken_IsMalformed()
    {
        var cms = new SignedCms(new ContentInfo(Data));
        cms.ComputeSignature(new CmsSigner(tsa), silent: true);

        Assert.That(verifier.VerifyTokenForData(cms.Encode(), Data).Code, Is.EqualTo(TrustServiceErrors.TimeStampMalformed));
    }

    [Test]
    public void GrantedResponse_IsVerified_RejectionIsRejected()
    {
        var granted = TimeStampResponse.Granted(TestTokens.Create(tsa, DataHash, clock.GetUtcNow())).Encode();
        var rejected = TimeStampResponse.Rejection(TimeStampFailureInfo.BadAlgorithm, "use SHA-256").Encode();

        Assert.That(verifier.VerifyResponseForData(granted, Data).IsValid, Is.True);
        Assert.That(verifier.VerifyResponseForHash(granted, DataHash).IsValid, Is.True);
        var result = verifier.VerifyResponseForData(rejected, Data);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampRejected));
            Assert.That(result.Errors[0].Message, Does.Contain("BadAlgorithm").And.Contain("use SHA-256"));
        }
    }

    [Test]
    public void HashOfWrongLength_IsACallerError()
    {
        Assert.Throws<ArgumentException>(() => verifier.VerifyTokenForHash([0x30], new byte[20]));
    }

    [Test]
    public void Constructor_NeedsSomethingToTrust()
    {
        Assert.Throws<ArgumentException>(() => _ = new TimeStampTokenVerifier([], [], clock));
    }

    /// <summary>A certificate of <paramref name="profile"/> from <paramref name="issuer"/>, carrying its private key.</summary>
    private static X509Certificate2 IssueWithKey(CertificateAuthority issuer, CertificateProfile profile, string name)
    {
        using var key = EcKeys.GenerateP256();
        using var certificate = issuer.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("DEV", "Test", name),
            PublicKey = new PublicKey(key),
            Profile = profile,
        });
        return certificate.CopyWithPrivateKey(key);
    }
}
