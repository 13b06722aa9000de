// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Tests.Pki;
using ExchangeBus.Core.TrustServices;
using Microsoft.Extensions.Time.Testing;
using Org.BouncyCastle.Ocsp;

namespace ExchangeBus.Core.Tests.TrustServices;

public sealed class OcspResponseVerifierTests
{
    private FakeTimeProvider clock = null!;
    private CertificateAuthority ca = null!;
    private ECDsa responderKey = null!;
    private X509Certificate2 responder = null!;
    private X509Certificate2 member = null!;
    private OcspResponseVerifier verifier = null!;

    [SetUp]
    public void SetUp()
    {
        clock = new FakeTimeProvider(TestClock.Start);
        ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        (responder, responderKey) = Issue(ca, CertificateProfile.OcspSigning, "OCSP Responder");
        (member, var memberKey) = Issue(ca, CertificateProfile.MemberSigning, "MEMBER");
        memberKey.Dispose();
        verifier = new OcspResponseVerifier(clock);
    }

    [TearDown]
    public void TearDown()
    {
        member.Dispose();
        responder.Dispose();
        responderKey.Dispose();
        ca.Dispose();
    }

    [Test]
    public void Good_IsGood()
    {
        var thisUpdate = clock.GetUtcNow().AddMinutes(-10);

        var result = verifier.Verify(Response(), member, ca.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.IsGood, Is.True);
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Good));
            Assert.That(result.ResponseStatus, Is.EqualTo(OcspResponseStatus.Successful));
            Assert.That(result.ThisUpdate, Is.EqualTo(thisUpdate));
            Assert.That(result.NextUpdate, Is.EqualTo(thisUpdate.AddHours(1)));
            Assert.That(result.Response.Length, Is.GreaterThan(0));
        }
    }

    [Test]
    public void Revoked_IsRevoked_WithTimeAndReason()
    {
        var revokedAt = clock.GetUtcNow().AddDays(-2);

        var result = verifier.Verify(Response(with => with with { Status = TestOcspResponses.Revoked(revokedAt, 1) }), member, ca.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.IsGood, Is.False);
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Revoked));
            Assert.That(result.RevocationTime, Is.EqualTo(revokedAt));
            Assert.That(result.RevocationReason, Is.EqualTo(RevocationReason.KeyCompromise));
        }
    }

    [Test]
    public void Unknown_IsUnknown()
    {
        var result = verifier.Verify(Response(with => with with { Status = new UnknownStatus() }), member, ca.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Unknown));
            Assert.That(result.IsGood, Is.False);
        }
    }

    [Test]
    public void Sha256CertId_IsMatched()
    {
        var result = verifier.Verify(Response(with => with with { CertIdHashOid = "2.16.840.1.101.3.4.2.1" }), member, ca.Certificate);

        Assert.That(result.IsGood, Is.True, result.ToString());
    }

    [Test]
    public void Stale_AfterTheFreshnessLimit()
    {
        var response = Response();

        clock.Advance(OcspVerifierOptions.DefaultFreshnessLimit);

        Assert.That(verifier.Verify(response, member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspStale));
    }

    [Test]
    public void WithinTheFreshnessLimit_IsFresh()
    {
        var response = Response();

        clock.Advance(OcspVerifierOptions.DefaultFreshnessLimit - TimeSpan.FromMinutes(11));

        Assert.That(verifier.Verify(response, member, ca.Certificate).IsGood, Is.True);
    }

    [Test]
    public void ShorterFreshnessLimit_IsHonoured()
    {
        var strict = new OcspResponseVerifier(clock, new OcspVerifierOptions { FreshnessLimit = TimeSpan.FromMinutes(5) });

        Assert.That(strict.Verify(Response(), member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspStale));
    }

    [Test]
    public void NextUpdateInThePast_IsStale()
    {
        var response = Response(with => with with { NextUpdate = clock.GetUtcNow().AddMinutes(-9) });

        Assert.That(verifier.Verify(response, member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspStale));
    }

    [Test]
    public void ThisUpdateInTheFuture_IsFromTheFuture_WithinTheSkew_IsAccepted()
    {
        var future = Response(with => with with { ThisUpdate = clock.GetUtcNow().AddMinutes(6), ProducedAt = clock.GetUtcNow() });
        var slightlyAhead = Response(with => with with { ThisUpdate = clock.GetUtcNow().AddMinutes(2), ProducedAt = clock.GetUtcNow() });

        Assert.That(verifier.Verify(future, member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspFromTheFuture));
        Assert.That(verifier.Verify(slightlyAhead, member, ca.Certificate).IsGood, Is.True);
    }

    [Test]
    public void ProducedAtInTheFuture_IsFromTheFuture()
    {
        var response = Response(with => with with { ProducedAt = clock.GetUtcNow().AddHours(1) });

        Assert.That(verifier.Verify(response, member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspFromTheFuture));
    }

    [Test]
    public void SignedByTheCaItself_IsTrusted()
    {
        var caKey = SaveAndReadRootKey();

        var response = Response(with => with with { Responder = ca.Certificate, SigningKey = caKey });

        Assert.That(verifier.Verify(response, member, ca.Certificate).IsGood, Is.True);
    }

    [Test]
    public void ResponderFromAnotherCa_IsUntrustedResponder()
    {
        using var foreignCa = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Other", "Root CA"), clock);
        var (foreignResponder, foreignKey) = Issue(foreignCa, CertificateProfile.OcspSigning, "OCSP Responder");
        using (foreignResponder)
        using (foreignKey)
        {
            var result = verifier.Verify(Response(with => with with { Responder = foreignResponder, SigningKey = foreignKey }), member, ca.Certificate);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspUntrustedResponder));
                Assert.That(result.IsGood, Is.False);
            }
        }
    }

    [Test]
    public void ResponderImpersonatingOurCaName_IsUntrustedResponder()
    {
        // Same issuer DN as our root, other key: only the certificate signature check catches it.
        using var impostorCa = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        var (impostor, impostorKey) = Issue(impostorCa, CertificateProfile.OcspSigning, "OCSP Responder");
        using (impostor)
        using (impostorKey)
        {
            var result = verifier.Verify(Response(with => with with { Responder = impostor, SigningKey = impostorKey }), member, ca.Certificate);

            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspUntrustedResponder));
        }
    }

    [Test]
    public void ResponderWithoutOcspSigningUsage_IsUntrustedResponder()
    {
        var (tsa, tsaKey) = Issue(ca, CertificateProfile.TimeStamping, "TSA");
        using (tsa)
        using (tsaKey)
        {
            var result = verifier.Verify(Response(with => with with { Responder = tsa, SigningKey = tsaKey }), member, ca.Certificate);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspUntrustedResponder));
                Assert.That(result.Errors[0].Message, Does.Contain("OCSPSigning"));
            }
        }
    }

    [Test]
    public void ExpiredResponderCertificate_IsUntrustedResponder()
    {
        var (shortLived, shortLivedKey) = Issue(ca, CertificateProfile.OcspSigning, "Short-lived Responder", TimeSpan.FromHours(1));
        using (shortLived)
        using (shortLivedKey)
        {
            clock.Advance(TimeSpan.FromHours(2));

            var result = verifier.Verify(Response(with => with with { Responder = shortLived, SigningKey = shortLivedKey }), member, ca.Certificate);

            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspUntrustedResponder));
        }
    }

    [Test]
    public void SignedByAnUntrustedKey_IsInvalidSignature()
    {
        using var otherKey = EcKeys.GenerateP256();

        // Names our responder but is signed with another key.
        var result = verifier.Verify(Response(with => with with { SigningKey = otherKey }), member, ca.Certificate);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspInvalidSignature));
    }

    [Test]
    public void TamperedResponse_IsInvalidSignature()
    {
        var response = Response(with => with with { Status = new UnknownStatus() });

        // unknown [2] IMPLICIT NULL becomes good [0] IMPLICIT NULL: a forger's dream.
        var at = response.AsSpan().IndexOf([(byte)0x82, (byte)0x00]);
        response[at] = 0x80;
        var result = verifier.Verify(response, member, ca.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Status, Is.EqualTo(OcspCertificateStatus.Good));
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspInvalidSignature));
            Assert.That(result.IsGood, Is.False);
        }
    }

    [Test]
    public void ResponseAboutAnotherCertificate_IsCertificateMismatch()
    {
        var (other, otherKey) = Issue(ca, CertificateProfile.MemberSigning, "OTHER");
        using (other)
        using (otherKey)
        {
            var result = verifier.Verify(Response(with => with with { Subject = other }), member, ca.Certificate);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspCertificateMismatch));
                Assert.That(result.Status, Is.Null);
            }
        }
    }

    [Test]
    public void WrongIssuerGiven_IsCertificateMismatch()
    {
        using var other = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Other", "Root CA"), clock);

        var result = verifier.Verify(Response(), member, other.Certificate);

        // The responder is not the other CA's either; both are said.
        Assert.That(
            result.Errors.Select(e => e.Code),
            Is.EquivalentTo(new[] { TrustServiceErrors.OcspUntrustedResponder, TrustServiceErrors.OcspCertificateMismatch }));
    }

    [Test]
    public void Nonce_Matching_IsValid_Missing_OrDifferent_IsNonceMismatch()
    {
        var nonce = RandomNumberGenerator.GetBytes(32);
        var withNonce = Response(with => with with { Nonce = nonce });

        Assert.That(verifier.Verify(withNonce, member, ca.Certificate, nonce).IsGood, Is.True);
        Assert.That(verifier.Verify(withNonce, member, ca.Certificate, new byte[32]).Code, Is.EqualTo(TrustServiceErrors.OcspNonceMismatch));
        Assert.That(verifier.Verify(Response(), member, ca.Certificate, nonce).Code, Is.EqualTo(TrustServiceErrors.OcspNonceMismatch));
    }

    [TestCase(1, OcspResponseStatus.MalformedRequest)]
    [TestCase(2, OcspResponseStatus.InternalError)]
    [TestCase(3, OcspResponseStatus.TryLater)]
    [TestCase(6, OcspResponseStatus.Unauthorized)]
    public void UnsuccessfulStatus_IsUnsuccessful(byte status, OcspResponseStatus expected)
    {
        var result = verifier.Verify([0x30, 0x03, 0x0A, 0x01, status], member, ca.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspUnsuccessful));
            Assert.That(result.ResponseStatus, Is.EqualTo(expected));
        }
    }

    [TestCase("")]
    [TestCase("00")]
    [TestCase("3000")]
    [TestCase("30030a0100")]
    [TestCase("3080300000")]
    [TestCase("300e0a0100a009300706032b0601ff00")]
    public void Garbage_IsMalformed(string hex)
    {
        Assert.That(verifier.Verify(Convert.FromHexString(hex), member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspMalformed));
    }

    [Test]
    public void TrailingBytesOrOversize_IsMalformed()
    {
        Assert.That(verifier.Verify([.. Response(), 0], member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspMalformed));
        Assert.That(verifier.Verify(new byte[OcspVerifierOptions.DefaultMaxResponseBytes + 1], member, ca.Certificate).Code, Is.EqualTo(TrustServiceErrors.OcspMalformed));
    }

    [Test]
    public void ResponderCertificateNotInDer_IsUntrustedResponder()
    {
        // The critical flag of the responder certificate's basicConstraints sent as BF, which BER
        // reads as true and DER forbids: BouncyCastle 2 re-encodes it as FF and, without the DER
        // check, found the CA's signature good over bytes the response does not carry.
        byte[] criticalBasicConstraints = [0x06, 0x03, 0x55, 0x1D, 0x13, 0x01, 0x01, 0xFF];
        var response = Response();
        var certificateAt = response.AsSpan().IndexOf(responder.RawData);
        var flagAt = responder.RawData.AsSpan().IndexOf(criticalBasicConstraints);
        Assert.That(certificateAt, Is.GreaterThanOrEqualTo(0));
        Assert.That(flagAt, Is.GreaterThanOrEqualTo(0));
        response[certificateAt + flagAt + criticalBasicConstraints.Length - 1] = 0xBF;

        var result = verifier.Verify(response, member, ca.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsGood, Is.False);
            Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspUntrustedResponder), result.ToString());
        }
    }

    [Test]
    public void MutatedResponses_NeverThrow_AndAreNeverGoodUnlessUnchanged()
    {
        var valid = Response();
        var random = new Random(6960);

        for (var i = 0; i < 2000; i++)
        {
            var input = (byte[])valid.Clone();
            var at = random.Next(input.Length);
            input[at] ^= (byte)(1 << random.Next(8));

            var result = verifier.Verify(input, member, ca.Certificate);

            Assert.That(result.IsGood, Is.False, $"byte {at}: {valid[at]:X2} -> {input[at]:X2} in {Convert.ToHexString(valid)}");
        }
    }

    private static (X509Certificate2 Certificate, ECDsa Key) Issue(
        CertificateAuthority issuer, CertificateProfile profile, string name, TimeSpan? validity = null)
    {
        var key = EcKeys.GenerateP256();
        var certificate = issuer.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("DEV", "Test", name),
            PublicKey = new PublicKey(key),
            Profile = profile,
            Validity = validity,
        });
        return (certificate, key);
    }

    /// <summary>A good response from our delegated responder, thisUpdate ten minutes ago; <paramref name="change"/> alters the spec.</summary>
    private byte[] Response(Func<OcspResponseSpec, OcspResponseSpec>? change = null)
    {
        var spec = new OcspResponseSpec
        {
            Issuer = ca.Certificate,
            Subject = member,
            Responder = responder,
            SigningKey = responderKey,
            ThisUpdate = clock.GetUtcNow().AddMinutes(-10),
        };
        return TestOcspResponses.Create(change is null ? spec : change(spec));
    }

    private ECDsa SaveAndReadRootKey()
    {
        var folder = Directory.CreateTempSubdirectory("xbus-ocsp-").FullName;
        try
        {
            ca.Save(Path.Combine(folder, "ca.pem"), Path.Combine(folder, "ca.key.pem"));
            return PemFiles.ReadPrivateKey(Path.Combine(folder, "ca.key.pem"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
