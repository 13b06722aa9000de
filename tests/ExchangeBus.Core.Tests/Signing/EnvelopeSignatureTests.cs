// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Core.Tests.Signing;

public sealed class EnvelopeSignatureTests
{
    private static readonly byte[] Header = "\n\u0012VN/GOV/G01/dossier\u0012\u0004call"u8.ToArray();
    private static readonly byte[] Body = "{\"citizen\":\"001099012345\"}"u8.ToArray();

    private ECDsa _key = null!;
    private EnvelopeSigner _signer = null!;

    [SetUp]
    public void SetUp()
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _signer = new EnvelopeSigner(_key);
    }

    [TearDown]
    public void TearDown() => _key.Dispose();

    [Test]
    public void Verify_SignedEnvelope_ReturnsTrue()
    {
        var signature = _signer.Sign(Header, Body);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, _key), Is.True);
    }

    [Test]
    public void Verify_PublicKeyOnly_ReturnsTrue()
    {
        var signature = _signer.Sign(Header, Body);
        using var publicKey = ECDsa.Create();
        publicKey.ImportSubjectPublicKeyInfo(_key.ExportSubjectPublicKeyInfo(), out _);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, publicKey), Is.True);
    }

    [Test]
    public void Sign_Always_ProducesDerEcdsaSigValue()
    {
        var signature = _signer.Sign(Header, Body);

        // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279), DER.
        var reader = new AsnReader(signature, AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        var r = sequence.ReadInteger();
        var s = sequence.ReadInteger();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.HasData, Is.False);
            Assert.That(sequence.HasData, Is.False);
            Assert.That(r.Sign, Is.EqualTo(1));
            Assert.That(s.Sign, Is.EqualTo(1));
            Assert.That(signature, Has.Length.InRange(8, 72));
        }
    }

    [Test]
    public void Sign_Signature_IsEcdsaSha256OverTheDigest()
    {
        // The rule other implementations follow: plain ECDSA-with-SHA256 over the 64 bytes.
        var signature = _signer.Sign(Header, Body);
        var toBeSigned = EnvelopeDigest.Compute(Header, Body);

        Assert.That(
            _key.VerifyData(toBeSigned, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            Is.True);
    }

    [Test]
    public void Verify_TamperedHeader_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);
        var header = (byte[])Header.Clone();
        header[^1] ^= 0x01;

        Assert.That(EnvelopeVerifier.Verify(header, Body, signature, _key), Is.False);
    }

    [Test]
    public void Verify_TamperedBody_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);
        var body = (byte[])Body.Clone();
        body[0] ^= 0x80;

        Assert.That(EnvelopeVerifier.Verify(Header, body, signature, _key), Is.False);
    }

    [Test]
    public void Verify_BodyWithExtraByte_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);

        Assert.That(EnvelopeVerifier.Verify(Header, [.. Body, 0], signature, _key), Is.False);
    }

    [Test]
    public void Verify_HeaderAndBodySwapped_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);

        Assert.That(EnvelopeVerifier.Verify(Body, Header, signature, _key), Is.False);
    }

    [Test]
    public void Verify_EveryByteOfSignatureFlipped_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);

        for (var i = 0; i < signature.Length; i++)
        {
            var tampered = (byte[])signature.Clone();
            tampered[i] ^= 0x01;
            Assert.That(EnvelopeVerifier.Verify(Header, Body, tampered, _key), Is.False, $"byte {i} flipped");
        }
    }

    [Test]
    public void Verify_WrongKey_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, other), Is.False);
    }

    [Test]
    public void Verify_EmptySignature_ReturnsFalse()
    {
        Assert.That(EnvelopeVerifier.Verify(Header, Body, ReadOnlySpan<byte>.Empty, _key), Is.False);
    }

    [Test]
    public void Verify_TruncatedSignature_ReturnsFalseForEveryLength()
    {
        var signature = _signer.Sign(Header, Body);

        for (var length = 0; length < signature.Length; length++)
        {
            Assert.That(EnvelopeVerifier.Verify(Header, Body, signature.AsSpan(0, length), _key), Is.False, $"length {length}");
        }
    }

    [Test]
    public void Verify_TrailingByteAfterSignature_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, [.. signature, 0], _key), Is.False);
    }

    [Test]
    public void Verify_RandomBytesAsSignature_ReturnsFalse()
    {
        var random = new Random(20_240_601);

        for (var i = 0; i < 500; i++)
        {
            var garbage = new byte[random.Next(1, 200)];
            random.NextBytes(garbage);
            if (i % 2 == 0)
            {
                // Half of them look like a DER SEQUENCE, to get past the first byte check.
                garbage[0] = 0x30;
                if (garbage.Length > 1)
                {
                    garbage[1] = (byte)(garbage.Length - 2);
                }
            }

            Assert.That(EnvelopeVerifier.Verify(Header, Body, garbage, _key), Is.False, Convert.ToHexString(garbage));
        }
    }

    [Test]
    public void Verify_SameSignatureInIeeeP1363Form_ReturnsFalse()
    {
        // One encoding only: r||s is what some libraries emit by default, and accepting both
        // would make the wire format ambiguous.
        var p1363 = _key.SignData(EnvelopeDigest.Compute(Header, Body), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, p1363, _key), Is.False);
    }

    [Test]
    public void Verify_StreamedBody_MatchesInMemorySignature()
    {
        var signature = _signer.Sign(Header, Body);
        using var body = new MemoryStream(Body);

        Assert.That(EnvelopeVerifier.Verify(Header, body, signature, _key), Is.True);
    }

    [Test]
    public void Sign_StreamedBody_VerifiesInMemory()
    {
        using var body = new MemoryStream(Body);

        var signature = _signer.Sign(Header, body);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, _key), Is.True);
    }

    [Test]
    public void VerifyDigest_FromLoggedHashes_ReturnsTrue()
    {
        var signature = _signer.Sign(Header, Body);
        var toBeSigned = EnvelopeDigest.FromHashes(SHA256.HashData(Header), SHA256.HashData(Body));

        Assert.That(EnvelopeVerifier.VerifyDigest(toBeSigned, signature, _key), Is.True);
    }

    [TestCase(0)]
    [TestCase(32)]
    [TestCase(65)]
    public void VerifyDigest_WrongLength_ReturnsFalse(int length)
    {
        var toBeSigned = new byte[length];
        var signature = _key.SignData(toBeSigned, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        Assert.That(EnvelopeVerifier.VerifyDigest(toBeSigned, signature, _key), Is.False);
    }

    [TestCase(0)]
    [TestCase(32)]
    [TestCase(65)]
    public void SignDigest_WrongLength_ThrowsArgumentException(int length)
    {
        Assert.That(() => _signer.SignDigest(new byte[length]), Throws.ArgumentException);
    }

    [Test]
    public void Verify_Certificate_ReturnsTrueForItsKeyOnly()
    {
        var signature = _signer.Sign(Header, Body);
        using var certificate = SelfSigned(_key);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherCertificate = SelfSigned(otherKey);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, certificate), Is.True);
            Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, otherCertificate), Is.False);
            Assert.That(EnvelopeVerifier.Verify(Header, Body, [.. signature, 0], certificate), Is.False);
        }
    }

    [Test]
    public void Verify_PublicCertificateWithoutPrivateKey_ReturnsTrue()
    {
        var signature = _signer.Sign(Header, Body);
        using var withKey = SelfSigned(_key);
        using var publicOnly = X509CertificateLoader.LoadCertificate(withKey.RawData);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(publicOnly.HasPrivateKey, Is.False);
            Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, publicOnly), Is.True);
        }
    }

    [Test]
    public void Verify_RsaCertificate_ReturnsFalse()
    {
        var signature = _signer.Sign(Header, Body);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=rsa", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(5));

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, certificate), Is.False);
    }

    [Test]
    public void Constructor_P384Key_ThrowsArgumentException()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.That(() => new EnvelopeSigner(p384), Throws.ArgumentException);
    }

    [Test]
    public void Constructor_Secp256k1Key_ThrowsArgumentException()
    {
        // Same key size as P-256, so only the curve check tells them apart.
        using var k1 = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
        Assume.That(k1.KeySize, Is.EqualTo(256));

        Assert.That(() => new EnvelopeSigner(k1), Throws.ArgumentException);
    }

    [Test]
    public void Verify_SignatureByP384Key_ReturnsFalse()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var signature = p384.SignData(EnvelopeDigest.Compute(Header, Body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        Assume.That(p384.VerifyData(EnvelopeDigest.Compute(Header, Body), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence), Is.True);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, p384), Is.False);
    }

    [Test]
    public void Sign_SameInputTwice_BothVerify()
    {
        // ECDSA is randomised: two signatures differ, so nothing may use signature bytes as a
        // message identity (see docs/design/envelope-signature.md).
        var first = _signer.Sign(Header, Body);
        var second = _signer.Sign(Header, Body);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first, Is.Not.EqualTo(second));
            Assert.That(EnvelopeVerifier.Verify(Header, Body, first, _key), Is.True);
            Assert.That(EnvelopeVerifier.Verify(Header, Body, second, _key), Is.True);
        }
    }

    [Test]
    public void Verify_NullKey_ThrowsArgumentNullException()
    {
        var signature = _signer.Sign(Header, Body);

        Assert.That(() => EnvelopeVerifier.Verify(Header, Body, signature, (ECDsa)null!), Throws.ArgumentNullException);
    }

    private static X509Certificate2 SelfSigned(ECDsa key)
    {
        var request = new CertificateRequest("CN=VN/GOV/G01", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(5));
    }
}
