// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;

namespace ExchangeBus.Core.Signing;

/// <summary>The one curve envelope signatures use, checked in one place.</summary>
internal static class EnvelopeKeys
{
    private const string P256Oid = "1.2.840.10045.3.1.7";

    // Other 256-bit curves (secp256k1, brainpoolP256r1) have the same key size, so the size
    // alone does not tell; the curve's OID or, where a platform leaves it out, its name does.
    public static bool IsP256(ECDsa key)
    {
        if (key.KeySize != 256)
        {
            return false;
        }

        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed
            && (curve.Oid.Value == P256Oid
                || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1");
    }
}
