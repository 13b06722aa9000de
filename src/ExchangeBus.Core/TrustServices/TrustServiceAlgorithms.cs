// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;

namespace ExchangeBus.Core.TrustServices;

/// <summary>
/// The digest OIDs the trust services know and which of them they accept: one list, so the TSA
/// and the verifiers cannot drift apart.
/// </summary>
public static class TrustServiceAlgorithms
{
    public const string Sha1Oid = "1.3.14.3.2.26";
    public const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    public const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    public const string Sha512Oid = "2.16.840.1.101.3.4.2.3";

    /// <summary>The SHA-2 family only: SHA-1 and MD5 imprints are refused (collisions are practical).</summary>
    public static HashAlgorithmName? ForImprint(string? oid) => oid switch
    {
        Sha256Oid => HashAlgorithmName.SHA256,
        Sha384Oid => HashAlgorithmName.SHA384,
        Sha512Oid => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>
    /// OCSP CertIDs may also use SHA-1: there it only names an issuer that is checked by other
    /// means, and it is what most clients (openssl included) send by default.
    /// </summary>
    public static HashAlgorithmName? ForCertificateId(string? oid) => oid switch
    {
        Sha1Oid => HashAlgorithmName.SHA1,
        _ => ForImprint(oid),
    };

    public static byte[] Hash(HashAlgorithmName name, ReadOnlySpan<byte> data)
    {
        if (name == HashAlgorithmName.SHA1)
        {
            return SHA1.HashData(data);
        }

        if (name == HashAlgorithmName.SHA256)
        {
            return SHA256.HashData(data);
        }

        if (name == HashAlgorithmName.SHA384)
        {
            return SHA384.HashData(data);
        }

        if (name == HashAlgorithmName.SHA512)
        {
            return SHA512.HashData(data);
        }

        throw new ArgumentOutOfRangeException(nameof(name), name, "Unsupported hash algorithm.");
    }

    public static string Describe(string? oid) => oid switch
    {
        Sha1Oid => "SHA-1",
        Sha256Oid => "SHA-256",
        Sha384Oid => "SHA-384",
        Sha512Oid => "SHA-512",
        "1.2.840.113549.2.5" => "MD5",
        _ => oid ?? "(none)",
    };
}
