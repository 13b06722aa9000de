// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;
using BcCertificateStatus = Org.BouncyCastle.Ocsp.CertificateStatus;

namespace ExchangeBus.Core.Tests.TrustServices;

/// <summary>What a test OCSP response says and who signs it.</summary>
internal sealed record OcspResponseSpec
{
    public required X509Certificate2 Issuer { get; init; }

    public required X509Certificate2 Subject { get; init; }

    /// <summary>The certificate named as responder and included in the response.</summary>
    public required X509Certificate2 Responder { get; init; }

    /// <summary>The key that signs; normally the responder's.</summary>
    public required ECDsa SigningKey { get; init; }

    public BcCertificateStatus? Status { get; init; } = BcCertificateStatus.Good;

    public required DateTimeOffset ThisUpdate { get; init; }

    /// <summary>An hour after <see cref="ThisUpdate"/> by default.</summary>
    public DateTimeOffset? NextUpdate { get; init; }

    public DateTimeOffset? ProducedAt { get; init; }

    public byte[]? Nonce { get; init; }

    public string CertIdHashOid { get; init; } = OiwObjectIdentifiers.IdSha1.Id;

    /// <summary>The serial number the CertID names; the subject's by default.</summary>
    public byte[]? SerialNumber { get; init; }
}

/// <summary>Builds OCSP responses with BouncyCastle, as another responder would.</summary>
internal static class TestOcspResponses
{
    public static byte[] Create(OcspResponseSpec spec)
    {
        var parser = new X509CertificateParser();
        BcCertificate issuer = parser.ReadCertificate(spec.Issuer.RawData);
        BcCertificate responder = parser.ReadCertificate(spec.Responder.RawData);
        var id = new CertificateID(
            new AlgorithmIdentifier(new DerObjectIdentifier(spec.CertIdHashOid), DerNull.Instance),
            issuer,
            new BcBigInteger(spec.SerialNumber ?? spec.Subject.SerialNumberBytes.ToArray()));

        var generator = new BasicOcspRespGenerator(new RespID(responder.SubjectDN));
        generator.AddResponse(
            id, spec.Status, spec.ThisUpdate.UtcDateTime, (spec.NextUpdate ?? spec.ThisUpdate.AddHours(1)).UtcDateTime, null);

        if (spec.Nonce is not null)
        {
            var extensions = new X509ExtensionsGenerator();
            extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(spec.Nonce));
            generator.SetResponseExtensions(extensions.Generate());
        }

        var key = PrivateKeyFactory.CreateKey(spec.SigningKey.ExportPkcs8PrivateKey());
        var basic = generator.Generate(
            new Asn1SignatureFactory("SHA256WITHECDSA", key),
            spec.Responder.RawData.AsSpan().SequenceEqual(spec.Issuer.RawData) ? [] : [responder],
            (spec.ProducedAt ?? spec.ThisUpdate).UtcDateTime);
        return new OCSPRespGenerator().Generate(OCSPRespGenerator.Successful, basic).GetEncoded();
    }

    public static BcCertificateStatus Revoked(DateTimeOffset at, int reason) =>
        new RevokedStatus(new RevokedInfo(new DerGeneralizedTime(at.UtcDateTime), new CrlReason(reason)));
}
