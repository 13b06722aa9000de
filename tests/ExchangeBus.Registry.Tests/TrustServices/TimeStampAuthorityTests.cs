// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>The TSA without HTTP: what it grants, what it refuses and why, on a fake clock.</summary>
public sealed class TimeStampAuthorityTests
{
    private static readonly byte[] Data = "records 1..10000 of node A"u8.ToArray();

    private FakeTimeProvider clock = null!;
    private TestPki pki = null!;
    private TimeStampAuthority tsa = null!;
    private TimeStampTokenVerifier verifier = null!;

    [SetUp]
    public void SetUp()
    {
        clock = new FakeTimeProvider(TestClock.Start);
        pki = TestPki.Create(clock);
        tsa = pki.CreateTsa();
        verifier = new TimeStampTokenVerifier([pki.TsaCertificate], [pki.Root.Certificate], clock);
    }

    [TearDown]
    public void TearDown()
    {
        verifier.Dispose();
        tsa.Dispose();
        pki.Dispose();
    }

    [TestCase("SHA256")]
    [TestCase("SHA384")]
    [TestCase("SHA512")]
    public void Respond_ToSha2Request_GrantsTokenThatVerifies(string algorithm)
    {
        var name = new HashAlgorithmName(algorithm);
        var request = Rfc3161TimestampRequest.CreateFromData(Data, name, nonce: new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, requestSignerCertificates: true);

        var reply = tsa.Respond(request.Encode());

        var result = verifier.VerifyResponseForData(reply, Data);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.GenTime, Is.EqualTo(TestClock.Start), "genTime is the injected clock's, to the millisecond");
            Assert.That(result.PolicyOid, Is.EqualTo(TimeStampAuthorityOptions.PlaceholderPolicyOid));
            Assert.That(request.ProcessResponse(reply, out _).TokenInfo.HashAlgorithmId.Value, Is.EqualTo(request.HashAlgorithmId.Value));
        }
    }

    [Test]
    public void Respond_EchoesTheNonce_AndDotNetAcceptsTheReply()
    {
        var request = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, nonce: RandomNumberGenerator.GetBytes(16), requestSignerCertificates: true);

        // ProcessResponse checks status, imprint, nonce and that the signer certificate is present.
        var token = request.ProcessResponse(tsa.Respond(request.Encode()), out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(token.TokenInfo.GetNonce()!.Value.ToArray(), Is.EqualTo(request.GetNonce()!.Value.ToArray()));
            Assert.That(token.AsSignedCms().Certificates, Has.Count.EqualTo(1));
            Assert.That(token.VerifySignatureForData(Data, out var signer), Is.True);
            Assert.That(signer!.RawData, Is.EqualTo(pki.TsaCertificate.RawData));
        }
    }

    [Test]
    public void Respond_WithoutCertReq_LeavesTheCertificateOut()
    {
        var request = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, requestSignerCertificates: false);

        var token = request.ProcessResponse(tsa.Respond(request.Encode()), out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(token.AsSignedCms().Certificates, Is.Empty);
            Assert.That(token.VerifySignatureForData(Data, out _, [pki.TsaCertificate]), Is.True);
        }
    }

    [Test]
    public void Token_HasOnlyContentTypeDigestAndSigningCertificateV2Attributes()
    {
        var token = Grant(Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, requestSignerCertificates: true));

        var attributes = token.AsSignedCms().SignerInfos[0].SignedAttributes.Cast<CryptographicAttributeObject>().Select(a => a.Oid.Value);

        // No signingTime: it would come from the machine clock, not the injected one.
        Assert.That(attributes, Is.EquivalentTo(new[] { "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.16.2.47" }));
    }

    [Test]
    public void SerialNumbers_AreUniqueAndPositive()
    {
        var request = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256).Encode();

        var serials = Enumerable.Range(0, 200)
            .Select(_ => Grant(request).TokenInfo.GetSerialNumber().ToArray())
            .ToArray();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(serials.Select(Convert.ToHexString).Distinct().Count(), Is.EqualTo(serials.Length));
            Assert.That(serials.All(s => s.Length == 16 && (s[0] & 0x80) == 0), Is.True);
        }
    }

    [Test]
    public void ConcurrentResponds_AllVerify()
    {
        var tokens = new byte[100][];

        Parallel.For(0, tokens.Length, i =>
            tokens[i] = tsa.Respond(Rfc3161TimestampRequest.CreateFromData(BitConverter.GetBytes(i), HashAlgorithmName.SHA256).Encode()));

        var failures = Enumerable.Range(0, tokens.Length)
            .Select(i => verifier.VerifyResponseForData(tokens[i], BitConverter.GetBytes(i)))
            .Where(r => !r.IsValid)
            .Select(r => r.ToString());
        Assert.That(failures, Is.Empty);
    }

    [TestCase("SHA1", 20)]
    [TestCase("MD5", 16)]
    public void Respond_ToWeakHash_RefusesWithBadAlg(string algorithm, int length)
    {
        var request = Rfc3161TimestampRequest.CreateFromHash(new byte[length], new HashAlgorithmName(algorithm));

        AssertRefused(tsa.Respond(request.Encode()), TimeStampFailureInfo.BadAlgorithm);
    }

    [Test]
    public void Respond_ToUnknownHashOid_RefusesWithBadAlg()
    {
        AssertRefused(tsa.Respond(Request(imprintOid: "1.2.3.4")), TimeStampFailureInfo.BadAlgorithm);
    }

    [TestCase(0)]
    [TestCase(31)]
    [TestCase(33)]
    [TestCase(64)]
    public void Respond_ToSha256ImprintOfWrongLength_RefusesWithBadDataFormat(int length)
    {
        AssertRefused(tsa.Respond(Request(hashLength: length)), TimeStampFailureInfo.BadDataFormat);
    }

    [TestCase(0)]
    [TestCase(2)]
    [TestCase(3)]
    public void Respond_ToOtherVersion_RefusesWithBadRequest(int version)
    {
        AssertRefused(tsa.Respond(Request(version: version)), TimeStampFailureInfo.BadRequest);
    }

    [Test]
    public void Respond_ToOurPolicy_Grants_ToAnotherPolicy_RefusesWithUnacceptedPolicy()
    {
        var ours = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, new Oid(tsa.PolicyOid));
        var other = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, new Oid("1.3.6.1.4.1.4146.2.3"));

        Assert.That(verifier.VerifyResponseForData(tsa.Respond(ours.Encode()), Data).IsValid, Is.True);
        AssertRefused(tsa.Respond(other.Encode()), TimeStampFailureInfo.UnacceptedPolicy);
    }

    [Test]
    public void Respond_ToRequestWithExtension_RefusesWithUnacceptedExtension()
    {
        var extensions = new X509ExtensionCollection
        {
            new X509Extension("1.2.3.4.5", [0x05, 0x00], critical: false),
        };
        var request = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, extensions: extensions);

        AssertRefused(tsa.Respond(request.Encode()), TimeStampFailureInfo.UnacceptedExtension);
    }

    [Test]
    public void Respond_ToHugeNonce_RefusesWithBadRequest()
    {
        var request = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, nonce: RandomNumberGenerator.GetBytes(TimeStampAuthority.MaxNonceBytes + 1));

        AssertRefused(tsa.Respond(request.Encode()), TimeStampFailureInfo.BadRequest);
    }

    [Test]
    public void Respond_ToEmptyTruncatedOrTrailingInput_RefusesWithBadDataFormat()
    {
        var valid = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256).Encode();

        AssertRefused(tsa.Respond([]), TimeStampFailureInfo.BadDataFormat);
        AssertRefused(tsa.Respond(valid.AsSpan(0, valid.Length - 1)), TimeStampFailureInfo.BadDataFormat);
        AssertRefused(tsa.Respond([.. valid, 0x00]), TimeStampFailureInfo.BadDataFormat);
        AssertRefused(tsa.Respond("\u0030\u0080 BER indefinite length"u8), TimeStampFailureInfo.BadDataFormat);
    }

    [Test]
    public void Respond_ToOversizedInput_RefusesWithBadRequest_WithoutParsing()
    {
        var big = new byte[tsa.MaxRequestBytes + 1];
        var valid = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256).Encode();
        valid.CopyTo(big, 0);

        AssertRefused(tsa.Respond(big), TimeStampFailureInfo.BadRequest);
    }

    [Test]
    public void Respond_ToMutatedRequests_AlwaysAnswersWithATimeStampResp()
    {
        var valid = Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, nonce: new byte[] { 9, 9, 9 }, requestSignerCertificates: true).Encode();
        var random = new Random(3161);
        var granted = 0;

        for (var i = 0; i < 3000; i++)
        {
            var input = Mutate(valid, random);
            var reply = tsa.Respond(input);

            Assert.That(TimeStampResponse.TryDecode(reply, out var response), Is.True, "input " + Convert.ToHexString(input));
            if (response!.IsGranted)
            {
                granted++;
                Assert.That(Rfc3161TimestampToken.TryDecode(response.Token!.Value, out _, out _), Is.True);
            }
            else
            {
                Assert.That(response.FailureInfo, Is.Not.EqualTo(TimeStampFailureInfo.SystemFailure), "input " + Convert.ToHexString(input));
            }
        }

        // Some mutations (of the imprint, say) still make valid requests; most do not.
        Assert.That(granted, Is.InRange(1, 2999));
    }

    [Test]
    public void Respond_AfterTheTsaCertificateExpired_RefusesWithSystemFailure()
    {
        clock.Advance(TimeSpan.FromDays(3 * 365));

        AssertRefused(tsa.Respond(Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256).Encode()), TimeStampFailureInfo.SystemFailure);
    }

    [Test]
    public void Constructor_RefusesACertificateThatIsNotForTimeStamping()
    {
        var (certificate, key) = pki.IssueWithKey(CertificateProfile.OcspSigning, "Not a TSA");

        var error = Assert.Throws<PkiException>(() =>
            _ = new TimeStampAuthority(certificate, TestPki.Copy(key), clock, NullLogger<TimeStampAuthority>.Instance));

        Assert.That(error.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void Constructor_RefusesAKeyThatIsNotTheCertificates()
    {
        using var otherKey = EcKeys.GenerateP256();

        var error = Assert.Throws<PkiException>(() =>
            _ = new TimeStampAuthority(pki.TsaCertificate, TestPki.Copy(otherKey), clock, NullLogger<TimeStampAuthority>.Instance));

        Assert.That(error.Code, Is.EqualTo(PkiErrors.KeyMismatch));
    }

    [Test]
    public void Load_ReadsTheDevelopmentPkiFiles()
    {
        var manifest = new DevelopmentPki(clock).Create(new DevelopmentPkiOptions { OutputDirectory = pki.PathOf("certs-dev") });

        using var loaded = TimeStampAuthority.Load(
            pki.PathOf("certs-dev/" + DevelopmentPki.TimeStampingCertificateFile),
            pki.PathOf("certs-dev/" + DevelopmentPki.TimeStampingKeyFile),
            clock,
            NullLogger<TimeStampAuthority>.Instance);
        using var root = PemFiles.ReadCertificate(pki.PathOf("certs-dev/" + DevelopmentPki.RootCertificateFile));
        using var devVerifier = new TimeStampTokenVerifier([], [root], clock);

        var reply = loaded.Respond(Rfc3161TimestampRequest.CreateFromData(Data, HashAlgorithmName.SHA256, requestSignerCertificates: true).Encode());

        Assert.That(manifest.Entries, Is.Not.Empty);
        Assert.That(devVerifier.VerifyResponseForData(reply, Data).IsValid, Is.True);
    }

    private static void AssertRefused(byte[] reply, TimeStampFailureInfo failure)
    {
        Assert.That(TimeStampResponse.TryDecode(reply, out var response), Is.True);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response!.Status, Is.EqualTo(TimeStampStatus.Rejection));
            Assert.That(response.FailureInfo, Is.EqualTo(failure), response.StatusText);
            Assert.That(response.StatusText, Is.Not.Empty);
        }
    }

    /// <summary>A TimeStampReq written by hand, for what .NET's request builder will not produce.</summary>
    private static byte[] Request(int version = 1, string imprintOid = "2.16.840.1.101.3.4.2.1", int hashLength = 32)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(version);
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(imprintOid);
                    writer.WriteNull();
                }

                writer.WriteOctetString(new byte[hashLength]);
            }
        }

        return writer.Encode();
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.Next(4))
        {
            case 0:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                break;
            case 1:
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                bytes = bytes[..random.Next(bytes.Length)];
                break;
            default:
                bytes = [.. bytes, .. RandomNumberGenerator.GetBytes(random.Next(1, 8))];
                break;
        }

        return bytes;
    }

    private Rfc3161TimestampToken Grant(byte[] request)
    {
        Assert.That(TimeStampResponse.TryDecode(tsa.Respond(request), out var response), Is.True);
        Assert.That(response!.IsGranted, Is.True, response.StatusText);
        Assert.That(Rfc3161TimestampToken.TryDecode(response.Token!.Value, out var token, out _), Is.True);
        return token!;
    }

    private Rfc3161TimestampToken Grant(Rfc3161TimestampRequest request) => Grant(request.Encode());
}
