// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// The bus uses one key type: ECDSA on the named curve P-256. Keeping one type keeps every
/// verifier simple and every peer interoperable; anything else is refused with a stable code.
/// </summary>
public static class EcKeys
{
    /// <summary>id-ecPublicKey (RFC 5480).</summary>
    public const string EcPublicKeyOid = "1.2.840.10045.2.1";

    /// <summary>secp256r1 / prime256v1 / NIST P-256.</summary>
    public const string P256CurveOid = "1.2.840.10045.3.1.7";

    private const string RsaEncryptionOid = "1.2.840.113549.1.1.1";
    private const string RsaPssOid = "1.2.840.113549.1.1.10";

    /// <summary>Creates a new P-256 key by curve name (never explicit parameters).</summary>
    public static ECDsa GenerateP256() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>True when <paramref name="key"/> is on the named curve P-256.</summary>
    public static bool IsP256(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed && IsP256Name(curve.Oid);
    }

    /// <summary>
    /// Checks that a subject public key (from a CSR or a certificate) is an EC key on the named
    /// curve P-256 and that its point decodes. Returns null when it is, otherwise the reason.
    /// </summary>
    public static PkiError? CheckP256(PublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        var algorithm = publicKey.Oid.Value;
        if (!string.Equals(algorithm, EcPublicKeyOid, StringComparison.Ordinal))
        {
            var name = algorithm switch
            {
                RsaEncryptionOid or RsaPssOid => "RSA",
                _ => publicKey.Oid.FriendlyName ?? algorithm ?? "unknown",
            };
            return new PkiError(
                PkiErrors.KeyUnsupportedAlgorithm,
                $"Key algorithm {name} ({algorithm}) is not accepted; the bus uses ECDSA P-256 keys only.");
        }

        string? curveOid;
        try
        {
            // The parameters of id-ecPublicKey are a CHOICE; only namedCurve is allowed, because
            // explicit parameters hide which curve is really meant (and .NET cannot match them).
            var parameters = publicKey.EncodedParameters?.RawData;
            if (parameters is null || parameters.Length == 0)
            {
                return new PkiError(PkiErrors.KeyMalformed, "EC key has no curve parameters.");
            }

            var reader = new AsnReader(parameters, AsnEncodingRules.DER);
            if (!reader.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
            {
                return new PkiError(
                    PkiErrors.KeyUnsupportedCurve,
                    "EC key uses explicit curve parameters; only the named curve P-256 is accepted.");
            }

            curveOid = reader.ReadObjectIdentifier();
            reader.ThrowIfNotEmpty();
        }
        catch (AsnContentException)
        {
            return new PkiError(PkiErrors.KeyMalformed, "EC key parameters are not valid DER.");
        }

        if (!string.Equals(curveOid, P256CurveOid, StringComparison.Ordinal))
        {
            return new PkiError(
                PkiErrors.KeyUnsupportedCurve,
                $"EC curve {CurveName(curveOid)} ({curveOid}) is not accepted; only P-256 ({P256CurveOid}) is.");
        }

        try
        {
            // Decoding checks that the point is on the curve.
            using var key = publicKey.GetECDsaPublicKey();
            if (key is null)
            {
                return new PkiError(PkiErrors.KeyMalformed, "EC public key could not be decoded.");
            }
        }
        catch (CryptographicException)
        {
            return new PkiError(PkiErrors.KeyMalformed, "EC public key point is not valid.");
        }

        return null;
    }

    internal static bool IsP256Name(Oid? oid)
    {
        if (oid is null)
        {
            return false;
        }

        // Platforms fill in the OID value, the friendly name or both for named curves.
        return string.Equals(oid.Value, P256CurveOid, StringComparison.Ordinal)
            || string.Equals(oid.FriendlyName, "nistP256", StringComparison.Ordinal)
            || string.Equals(oid.FriendlyName, "ECDSA_P256", StringComparison.Ordinal);
    }

    private static string CurveName(string? oid) => oid switch
    {
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        _ => "unknown",
    };
}
