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
    /// True when <paramref name="signature"/>, in either form, is a valid signature of a
    /// to-be-signed value from <see cref="EnvelopeDigest"/>. A value of the wrong length is never valid.
    /// </summary>
    public static bool VerifyDigest(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        try
        {
            return EnvelopeKeys.IsP256(publicKey) && Check(toBeSigned, signature, publicKey, [], cache: null).IsValid;
        }
        catch (CryptographicException)
        {
            // A provider that cannot export a key's curve: the key cannot vouch for anything.
            return false;
        }
    }

    /// <summary>
    /// <see cref="VerifyDigest(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ECDsa)"/> without its P-256
    /// check, which exports the key's parameters (a fifth of a verification's cost): for a key
    /// the caller already checked once and verifies many signatures with.
    /// </summary>
    public static bool VerifyDigestWithCheckedKey(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, ECDsa checkedP256Key) =>
        Check(toBeSigned, signature, checkedP256Key, [], cache: null).IsValid;

    /// <summary>
    /// Checks a signature of either form under a key the caller has already found to be P-256,
    /// with the reason when it is refused. A batch-form signature's root signature is verified
    /// once per (key, root, root signature) while <paramref name="cache"/> remembers it; every
    /// envelope's path to the root is checked every time. <paramref name="keyId"/> is the key's
    /// SubjectPublicKeyInfo DER, naming it in the cache; unused without one.
    /// </summary>
    public static EnvelopeSignatureResult Check(
        ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, ECDsa checkedP256Key, ReadOnlySpan<byte> keyId, BatchRootCache? cache)
    {
        ArgumentNullException.ThrowIfNull(checkedP256Key);
        if (toBeSigned.Length != EnvelopeDigest.Size || signature.IsEmpty)
        {
            return EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.Invalid);
        }

        if (!BatchSignature.IsBatchForm(signature))
        {
            return VerifyData(toBeSigned, signature, checkedP256Key)
                ? EnvelopeSignatureResult.Valid
                : EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.Invalid);
        }

        var decoded = BatchSignature.TryDecode(signature, out var parts);
        if (!decoded.IsValid)
        {
            return decoded;
        }

        var path = BatchSignature.CheckPath(toBeSigned, signature, parts);
        if (!path.IsValid)
        {
            return path;
        }

        // The cache holds what was signed (size and root), so a hit means exactly what a check would.
        var rootToBeSigned = BatchSignature.RootToBeSigned(parts.TreeSize, BatchSignature.Root(signature));
        var rootSignature = BatchSignature.RootSignature(signature, parts);
        if (cache is not null && cache.Contains(keyId, rootToBeSigned, rootSignature))
        {
            return EnvelopeSignatureResult.Valid;
        }

        if (!VerifyData(rootToBeSigned, rootSignature, checkedP256Key))
        {
            return EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.Invalid);
        }

        cache?.Add(keyId, rootToBeSigned, rootSignature);
        return EnvelopeSignatureResult.Valid;
    }

    private static bool VerifyData(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, ECDsa key)
    {
        try
        {
            return key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            // .NET on Linux answers false for every malformed signature we have tried; this
            // keeps the "never throws on peer input" promise on providers that throw instead.
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
