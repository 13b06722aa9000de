// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Tests.TrustServices;

/// <summary>
/// Makes RFC 3161 tokens with .NET's SignedCms, so tests control what a TSA would not let them:
/// a signer without the timeStamping usage, any genTime, a wrong ESS binding.
/// </summary>
internal static class TestTokens
{
    public const string Policy = "1.3.6.1.4.1.99999.1.1";
    public const string Sha256Oid = "2.16.840.1.101.3.4.2.1";

    /// <summary>A token over <paramref name="imprint"/> signed by <paramref name="signer"/> (which carries its key).</summary>
    public static byte[] Create(
        X509Certificate2 signer,
        byte[] imprint,
        DateTimeOffset genTime,
        string hashOid = Sha256Oid,
        byte[]? nonce = null,
        bool includeCertificate = true,
        X509Certificate2? essCertificate = null,
        string policy = Policy)
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40); // positive, and minimal as DER wants
        // A null byte[] would convert to an empty (not a missing) nonce; pass a null Nullable instead.
        var info = new Rfc3161TimestampTokenInfo(
            new Oid(policy), new Oid(hashOid), imprint, serial, genTime, nonce: nonce is null ? default(ReadOnlyMemory<byte>?) : nonce);
        var cms = new SignedCms(new ContentInfo(new Oid("1.2.840.113549.1.9.16.1.4"), info.Encode()), detached: false);
        var cmsSigner = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer)
        {
            DigestAlgorithm = new Oid(Sha256Oid),
            IncludeOption = includeCertificate ? X509IncludeOption.EndCertOnly : X509IncludeOption.None,
        };
        cmsSigner.SignedAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.16.2.47", SigningCertificateV2(essCertificate ?? signer)));
        cms.ComputeSignature(cmsSigner, silent: true);
        return cms.Encode();
    }

    /// <summary>SigningCertificateV2 with one ESSCertIDv2 (SHA-256, the default, so no algorithm field).</summary>
    private static byte[] SigningCertificateV2(X509Certificate2 certificate)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteOctetString(SHA256.HashData(certificate.RawData));
                }
            }
        }

        return writer.Encode();
    }
}
