// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using OcspResponseStatus = ExchangeBus.Core.TrustServices.OcspResponseStatus;

namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>The responder without HTTP, judged by the bus's own verifier on a fake clock.</summary>
public sealed class OcspResponderTests
{
    private const string Sha1Oid = "1.3.14.3.2.26";

    private static readonly byte[] MalformedRequest = [0x30, 0x03, 0x0A, 0x01, 0x01];

    private FakeTimeProvider clock = null!;
    private TestPki pki = null!;
    private InMemoryCertificateStatusSource statuses = null!;
    private OcspResponder responder = null!;
    private OcspResponseVerifier verifier = null!;

    [SetUp]
    public void SetUp()
    {
        clock = new FakeTimeProvider(TestClock.Start);
        pki = TestPki.Create(clock);
        statuses = new InMemoryCertificateStatusSource();
        responder = pki.CreateOcspResponder(statuses);
        verifier = new OcspResponseVerifier(clock);
    }

    [TearDown]
    public void TearDown()
    {
        responder.Dispose();
        pki.Dispose();
    }

    [Test]
    public void Good_IsGood_WithThisUpdateNowAndNextUpdateAWindowLater()
    {
        var certificate = pki.IssueMember("a");
        statuses.SetGood(certificate);

        var result = verifier.Verify(responder.Respond(Request(certificate)), certificate, pki.Root.Certificate);

        var now = clock.GetUtcNow();
        var wholeSecond = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsGood, Is.True, result.ToString());
            Assert.That(result.ThisUpdate, Is.EqualTo(wholeSecond));
            Assert.That(result.ProducedAt, Is.EqualTo(wholeSecond));
            Assert.That(result.NextUpdate, Is.EqualTo(wholeSecond + OcspResponderOptions.DefaultNextUpdateWindow));
        }
    }

    [Test]
    public void Revoked_IsRevoked_WithTimeAndReason()
    {
        var certificate = pki.IssueMember("b");
        var revokedAt = new DateTimeOffset(2030, 1, 10, 8, 30, 0, TimeSpan.Zero);
        statuses.Revoke(certificate, revokedAt, RevocationReason.KeyCompromise);

        var result = verifier.Verify(responder.Respond(Request(certificate)), certificate, pki.Root.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Revoked));
            Assert.That(result.RevocationTime, Is.EqualTo(revokedAt));
            Assert.That(result.RevocationReason, Is.EqualTo(RevocationReason.KeyCompromise));
            Assert.That(result.IsGood, Is.False);
        }
    }

    [Test]
    public void Revoked_WithoutReason_LeavesTheReasonOut()
    {
        var certificate = pki.IssueMember("c");
        statuses.Revoke(certificate, clock.GetUtcNow(), reason: null);

        var result = verifier.Verify(responder.Respond(Request(certificate)), certificate, pki.Root.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Revoked));
            Assert.That(result.RevocationReason, Is.Null);
        }
    }

    [Test]
    public void SerialTheStoreDoesNotKnow_IsUnknown()
    {
        var certificate = pki.IssueMember("d");

        var result = verifier.Verify(responder.Respond(Request(certificate)), certificate, pki.Root.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Unknown));
        }
    }

    [TestCase("1.3.14.3.2.26")]
    [TestCase("2.16.840.1.101.3.4.2.1")]
    [TestCase("2.16.840.1.101.3.4.2.3")]
    public void CertIdHashes_Sha1AndSha2_AreAnswered(string hashOid)
    {
        var certificate = pki.IssueMember("e");
        statuses.SetGood(certificate);

        var result = verifier.Verify(responder.Respond(Request(certificate, hashOid: hashOid)), certificate, pki.Root.Certificate);

        Assert.That(result.IsGood, Is.True, result.ToString());
    }

    [Test]
    public void CertIdOfAnotherIssuer_IsUnknown_EvenForAKnownSerialNumber()
    {
        var certificate = pki.IssueMember("f");
        statuses.SetGood(certificate);
        using var other = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Other", "Root CA"), clock);

        var response = responder.Respond(Request(certificate, issuer: other.Certificate));

        Assert.That(SingleStatuses(response), Is.EqualTo(new[] { OcspCertificateStatus.Unknown }));
    }

    [Test]
    public void SeveralCertificates_EachGetsItsStatus_InRequestOrder()
    {
        var good = pki.IssueMember("g1");
        var revoked = pki.IssueMember("g2");
        var unknown = pki.IssueMember("g3");
        statuses.SetGood(good);
        statuses.Revoke(revoked, clock.GetUtcNow(), RevocationReason.Superseded);

        var response = responder.Respond(Request([good, revoked, unknown]));

        Assert.That(
            SingleStatuses(response),
            Is.EqualTo(new[] { OcspCertificateStatus.Good, OcspCertificateStatus.Revoked, OcspCertificateStatus.Unknown }));
        Assert.That(verifier.Verify(response, revoked, pki.Root.Certificate).Status, Is.EqualTo(OcspCertificateStatus.Revoked));
    }

    [Test]
    public void TooManyCertificates_IsMalformed()
    {
        var certificate = pki.IssueMember("h");
        var many = Enumerable.Repeat(certificate, OcspResponderOptions.DefaultMaxCertificatesPerRequest + 1).ToArray();

        Assert.That(responder.Respond(Request(many)), Is.EqualTo(MalformedRequest));
        Assert.That(ResponseStatus(responder.Respond(Request(many[1..]))), Is.EqualTo(OcspResponseStatus.Successful));
    }

    [Test]
    public void Nonce_IsEchoed()
    {
        var certificate = pki.IssueMember("i");
        statuses.SetGood(certificate);
        var nonce = RandomNumberGenerator.GetBytes(32);

        var result = verifier.Verify(responder.Respond(OcspClient.CreateRequest(certificate, pki.Root.Certificate, nonce)), certificate, pki.Root.Certificate, nonce);

        Assert.That(result.IsGood, Is.True, result.ToString());
    }

    [TestCase(0)]
    [TestCase(129)]
    public void NonceOfBadLength_IsMalformed(int length)
    {
        var certificate = pki.IssueMember("j");

        var response = responder.Respond(Request(certificate, nonce: new byte[length]));

        Assert.That(response, Is.EqualTo(MalformedRequest));
    }

    [TestCase(1)]
    [TestCase(128)]
    public void NonceOfAcceptedLength_IsEchoed(int length)
    {
        var certificate = pki.IssueMember("k");
        var nonce = RandomNumberGenerator.GetBytes(length);

        var result = verifier.Verify(responder.Respond(Request(certificate, nonce: nonce)), certificate, pki.Root.Certificate, nonce);

        Assert.That(result.Code, Is.Null, result.ToString());
    }

    [Test]
    public void UnknownCriticalExtension_IsMalformed_UnknownNonCritical_IsIgnored()
    {
        var certificate = pki.IssueMember("l");

        Assert.That(responder.Respond(Request(certificate, extraExtension: ("1.2.3.4", true))), Is.EqualTo(MalformedRequest));
        Assert.That(ResponseStatus(responder.Respond(Request(certificate, extraExtension: ("1.2.3.4", false)))), Is.EqualTo(OcspResponseStatus.Successful));
    }

    [Test]
    public void SignedRequest_IsAnsweredLikeAnUnsignedOne()
    {
        var certificate = pki.IssueMember("m");
        statuses.SetGood(certificate);
        var generator = new OcspReqGenerator();
        generator.AddRequest(CertId(Sha1Oid, pki.Root.Certificate, certificate));
        var signerKey = Org.BouncyCastle.Security.PrivateKeyFactory.CreateKey(pki.OcspKey.ExportPkcs8PrivateKey());
        generator.SetRequestorName(new GeneralName(GeneralName.DirectoryName, Bc(pki.OcspCertificate).SubjectDN));
        var request = generator.Generate("SHA256WITHECDSA", signerKey, [Bc(pki.OcspCertificate)]).GetEncoded();

        Assert.That(verifier.Verify(responder.Respond(request), certificate, pki.Root.Certificate).IsGood, Is.True);
    }

    [Test]
    public void EmptyTruncatedTrailingOrOversized_IsMalformed()
    {
        var valid = Request(pki.IssueMember("n"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(responder.Respond([]), Is.EqualTo(MalformedRequest));
            Assert.That(responder.Respond(valid.AsSpan(0, valid.Length - 1)), Is.EqualTo(MalformedRequest));
            Assert.That(responder.Respond([.. valid, 0]), Is.EqualTo(MalformedRequest));
            Assert.That(responder.Respond(new byte[responder.MaxRequestBytes + 1]), Is.EqualTo(MalformedRequest));
            Assert.That(responder.Respond([0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00]), Is.EqualTo(MalformedRequest));
        }
    }

    [Test]
    public void MutatedRequests_AlwaysGetAnOcspResponse_NeverInternalError()
    {
        var certificate = pki.IssueMember("o");
        statuses.SetGood(certificate);
        var valid = OcspClient.CreateRequest(certificate, pki.Root.Certificate, RandomNumberGenerator.GetBytes(32));
        var random = new Random(6960);

        for (var i = 0; i < 3000; i++)
        {
            var input = (byte[])valid.Clone();
            input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
            if (random.Next(4) == 0)
            {
                input = input[..random.Next(input.Length)];
            }

            var status = ResponseStatus(responder.Respond(input));

            Assert.That(status, Is.AnyOf(OcspResponseStatus.Successful, OcspResponseStatus.MalformedRequest), Convert.ToHexString(input));
        }
    }

    [Test]
    public void FailingStatusSource_GivesInternalError()
    {
        using var failing = pki.CreateOcspResponder(new ThrowingSource());

        Assert.That(failing.Respond(Request(pki.IssueMember("p"))), Is.EqualTo(new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x02 }));
    }

    [Test]
    public void CaSigningItsOwnResponses_IsAcceptedByTheVerifier()
    {
        var certificate = pki.IssueMember("q");
        statuses.SetGood(certificate);
        var rootKey = PemFilesRoundTrip();
        using var caResponder = new OcspResponder(
            pki.Root.Certificate, pki.Root.Certificate, rootKey, statuses, clock, NullLogger<OcspResponder>.Instance);

        var result = verifier.Verify(caResponder.Respond(Request(certificate)), certificate, pki.Root.Certificate);

        Assert.That(result.IsGood, Is.True, result.ToString());
    }

    [Test]
    public void Response_GoesStaleForTheVerifier_AfterTheFreshnessLimit()
    {
        var certificate = pki.IssueMember("r");
        statuses.SetGood(certificate);
        var response = responder.Respond(Request(certificate));

        clock.Advance(OcspVerifierOptions.DefaultFreshnessLimit + TimeSpan.FromSeconds(1));

        Assert.That(verifier.Verify(response, certificate, pki.Root.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspStale));
    }

    [Test]
    public void Constructor_RefusesAResponderWithoutOcspSigning()
    {
        var (certificate, key) = pki.IssueWithKey(CertificateProfile.TimeStamping, "Not a responder");

        var error = Assert.Throws<PkiException>(() => _ = new OcspResponder(
            pki.Root.Certificate, certificate, TestPki.Copy(key), statuses, clock, NullLogger<OcspResponder>.Instance));

        Assert.That(error.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void Constructor_RefusesAResponderFromAnotherCa()
    {
        using var other = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        using var key = EcKeys.GenerateP256();
        using var certificate = other.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("DEV", "Test", "OCSP Responder"),
            PublicKey = new PublicKey(key),
            Profile = CertificateProfile.OcspSigning,
        });

        // Same issuer name as our root, different key: only the signature check tells them apart.
        var error = Assert.Throws<PkiException>(() => _ = new OcspResponder(
            pki.Root.Certificate, certificate, TestPki.Copy(key), statuses, clock, NullLogger<OcspResponder>.Instance));

        Assert.That(error.Code, Is.EqualTo(PkiErrors.CertificateUntrustedRoot));
    }

    [Test]
    public void Constructor_RefusesAResponderCertificateNotInDer()
    {
        // basicConstraints' critical flag as BF (BER true, not DER): BouncyCastle 2 would check
        // the CA's signature over, and send, its re-encoding with FF instead of these bytes.
        byte[] criticalBasicConstraints = [0x06, 0x03, 0x55, 0x1D, 0x13, 0x01, 0x01, 0xFF];
        var der = pki.OcspCertificate.RawData;
        var flagAt = der.AsSpan().IndexOf(criticalBasicConstraints);
        Assert.That(flagAt, Is.GreaterThanOrEqualTo(0));
        der[flagAt + criticalBasicConstraints.Length - 1] = 0xBF;
        using var ber = X509CertificateLoader.LoadCertificate(der);

        var error = Assert.Throws<PkiException>(() => _ = new OcspResponder(
            pki.Root.Certificate, ber, TestPki.Copy(pki.OcspKey), statuses, clock, NullLogger<OcspResponder>.Instance));

        Assert.That(error.Code, Is.EqualTo(PkiErrors.CertificateMalformed));
    }

    [Test]
    public void Constructor_RefusesAKeyThatIsNotTheResponders()
    {
        using var otherKey = EcKeys.GenerateP256();

        var error = Assert.Throws<PkiException>(() => _ = new OcspResponder(
            pki.Root.Certificate, pki.OcspCertificate, TestPki.Copy(otherKey), statuses, clock, NullLogger<OcspResponder>.Instance));

        Assert.That(error.Code, Is.EqualTo(PkiErrors.KeyMismatch));
    }

    private static CertificateID CertId(string hashOid, X509Certificate2 issuer, X509Certificate2 certificate) =>
        new(new AlgorithmIdentifier(new DerObjectIdentifier(hashOid), DerNull.Instance), Bc(issuer), Serial(certificate));

    private static BcBigInteger Serial(X509Certificate2 certificate) => new(certificate.SerialNumberBytes.ToArray());

    private static Org.BouncyCastle.X509.X509Certificate Bc(X509Certificate2 certificate) =>
        new X509CertificateParser().ReadCertificate(certificate.RawData);

    private static OcspResponseStatus ResponseStatus(byte[] response)
    {
        var reader = new AsnReader(response, AsnEncodingRules.DER).ReadSequence();
        return reader.ReadEnumeratedValue<OcspResponseStatus>();
    }

    private static OcspCertificateStatus[] SingleStatuses(byte[] response)
    {
        var basic = (BasicOcspResp)new OcspResp(response).GetResponseObject();
        return basic.Responses.Select(r => r.GetCertStatus() switch
        {
            null => OcspCertificateStatus.Good,
            RevokedStatus => OcspCertificateStatus.Revoked,
            _ => OcspCertificateStatus.Unknown,
        }).ToArray();
    }

    private byte[] Request(X509Certificate2 certificate, X509Certificate2? issuer = null, string hashOid = Sha1Oid, byte[]? nonce = null, (string Oid, bool Critical)? extraExtension = null)
    {
        var generator = new OcspReqGenerator();
        generator.AddRequest(CertId(hashOid, issuer ?? pki.Root.Certificate, certificate));
        var extensions = new X509ExtensionsGenerator();
        if (nonce is not null)
        {
            extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(nonce));
        }

        if (extraExtension is { } extra)
        {
            extensions.AddExtension(new DerObjectIdentifier(extra.Oid), extra.Critical, DerNull.Instance);
        }

        if (!extensions.IsEmpty)
        {
            generator.SetRequestExtensions(extensions.Generate());
        }

        return generator.Generate().GetEncoded();
    }

    private byte[] Request(X509Certificate2[] certificates)
    {
        var generator = new OcspReqGenerator();
        foreach (var certificate in certificates)
        {
            generator.AddRequest(CertId(Sha1Oid, pki.Root.Certificate, certificate));
        }

        return generator.Generate().GetEncoded();
    }

    /// <summary>The root's key, by saving the authority and reading the key file back.</summary>
    private ECDsa PemFilesRoundTrip()
    {
        pki.Root.Save(pki.PathOf("root-cert.pem"), pki.PathOf("root-key.pem"));
        return PemFiles.ReadPrivateKey(pki.PathOf("root-key.pem"));
    }

    private sealed class ThrowingSource : ICertificateStatusSource
    {
        public CertificateStatusInfo? Find(string serialNumberHex) => throw new InvalidOperationException("database is down");
    }
}
