// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// Checks envelope signatures made by <see cref="EnvelopeSigner"/> or by any implementation
/// of docs/design/envelope-signature.md.
/// </summary>
/// <remarks>
/// Signature bytes come from a peer, so every malformed signature (empty, truncated, not DER,
/// trailing bytes) is a plain <c>false</c>, never an exception. So is a key or certificate that
/// is not ECDSA P-256. Only programming errors (null arguments) throw. Whether the certificate
/// is trusted, current and names the right member is for the caller to check; this class only
/// answers "did this key sign these bytes".
/// </remarks>
public static class EnvelopeVerifier
{
    /// <summary>True when <paramref name="signature"/> is a valid signature of the header and body by <paramref name="publicKey"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature, ECDsa publicKey) =>
        VerifyDigest(EnvelopeDigest.Compute(header, body), signature, publicKey);

    /// <summary>True when <paramref name="signature"/> is a valid signature of the header and body by the certificate's key.</summary>
    public static bool Verify(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature, X509Certificate2 certificate) =>
        VerifyDigest(EnvelopeDigest.Compute(header, body), signature, certificate);

    /// <summary>Like <see cref="Verify(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ECDsa)"/>, reading the body from its current position to its end.</summary>
    public static bool Verify(ReadOnlySpan<byte> header, Stream body, ReadOnlySpan<byte> signature, ECDsa publicKey) =>
        VerifyDigest(EnvelopeDigest.Compute(header, body), signature, publicKey);

    /// <summary>Like <see cref="Verify(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, X509Certificate2)"/>, reading the body from its current position to its end.</summary>
    public static bool Verify(ReadOnlySpan<byte> header, Stream body, ReadOnlySpan<byte> signature, X509Certificate2 certificate) =>
        VerifyDigest(EnvelopeDigest.Compute(header, body), signature, certificate);

    /// <summary>
    /// True when <paramref name="signature"/> is a valid signature of a to-be-signed value from
    /// <see cref="EnvelopeDigest"/>. A value of the wrong length is never valid.
    /// </summary>
    public static bool VerifyDigest(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        if (toBeSigned.Length != EnvelopeDigest.Size || signature.IsEmpty)
        {
            return false;
        }

        try
        {
            return EnvelopeKeys.IsP256(publicKey)
                && publicKey.VerifyData(toBeSigned, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            // .NET on Linux answers false for every malformed signature we have tried; this
            // keeps the "never throws on peer input" promise on providers that throw instead,
            // or that cannot export a key's curve.
            return false;
        }
    }

    /// <summary>
    /// <see cref="VerifyDigest(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ECDsa)"/> without its P-256
    /// check, which exports the key's parameters (a fifth of a verification's cost): for a key
    /// the caller already checked once and verifies many signatures with.
    /// </summary>
    public static bool VerifyDigestWithCheckedKey(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, ECDsa checkedP256Key)
    {
        ArgumentNullException.ThrowIfNull(checkedP256Key);
        try
        {
            return toBeSigned.Length == EnvelopeDigest.Size && !signature.IsEmpty
                && checkedP256Key.VerifyData(toBeSigned, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            // Peer input never makes verification throw.
            return false;
        }
    }

    /// <summary>
    /// True when <paramref name="signature"/> is a valid signature of a to-be-signed value by
    /// the certificate's key. A certificate without an ECDSA P-256 key never verifies.
    /// </summary>
    public static bool VerifyDigest(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ECDsa? key;
        try
        {
            key = certificate.GetECDsaPublicKey();
        }
        catch (CryptographicException)
        {
            // A certificate whose key parameters the platform cannot load cannot vouch for anything.
            return false;
        }

        using (key)
        {
            return key is not null && VerifyDigest(toBeSigned, signature, key);
        }
    }
}
