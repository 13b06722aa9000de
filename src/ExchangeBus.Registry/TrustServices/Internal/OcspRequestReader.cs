// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography;

namespace ExchangeBus.Registry.TrustServices.Internal;

/// <summary>One CertID of a request, kept as sent so the response can echo it exactly.</summary>
internal sealed record OcspCertificateId(
    byte[] HashAlgorithm, string HashAlgorithmOid, byte[] IssuerNameHash, byte[] IssuerKeyHash, byte[] SerialNumber);

/// <summary>What the responder needs from an OCSPRequest.</summary>
internal sealed record OcspRequestInfo(IReadOnlyList<OcspCertificateId> CertificateIds, byte[]? NonceExtensionValue);

/// <summary>
/// Reads an OCSPRequest (RFC 6960 §4.1.1) with .NET's strict DER reader, so that client bytes
/// never reach BouncyCastle's older parser. Unsigned and signed requests are read alike (the
/// signature is not required, so it is not checked).
/// </summary>
internal static class OcspRequestReader
{
    private const string NonceOid = "1.3.6.1.5.5.7.48.1.2";

    /// <summary>RFC 9654: a nonce is 1 to 128 octets; anything else is a malformed request.</summary>
    private const int MaxNonceBytes = 128;

    private static readonly Asn1Tag Explicit0 = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag Explicit1 = new(TagClass.ContextSpecific, 1, isConstructed: true);
    private static readonly Asn1Tag Explicit2 = new(TagClass.ContextSpecific, 2, isConstructed: true);

    public static bool TryRead(
        ReadOnlyMemory<byte> der, int maxCertificateIds, [NotNullWhen(true)] out OcspRequestInfo? request, [NotNullWhen(false)] out string? problem)
    {
        request = null;
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var ocspRequest = outer.ReadSequence();
            outer.ThrowIfNotEmpty();

            var tbs = ocspRequest.ReadSequence();
            if (ocspRequest.HasData)
            {
                // optionalSignature [0] EXPLICIT Signature: read past it.
                ocspRequest.ReadSequence(Explicit0);
            }

            ocspRequest.ThrowIfNotEmpty();

            if (tbs.PeekTag().HasSameClassAndValue(Explicit0))
            {
                var version = tbs.ReadSequence(Explicit0);
                if (!version.TryReadInt32(out var v) || v != 0)
                {
                    problem = "only version 1 (0) requests are supported";
                    return false;
                }

                version.ThrowIfNotEmpty();
            }

            if (tbs.PeekTag().HasSameClassAndValue(Explicit1))
            {
                tbs.ReadEncodedValue(); // requestorName: not used
            }

            var ids = new List<OcspCertificateId>();
            var list = tbs.ReadSequence();
            while (list.HasData)
            {
                if (ids.Count == maxCertificateIds)
                {
                    problem = $"more than {maxCertificateIds} certificates in one request";
                    return false;
                }

                ids.Add(ReadRequest(list.ReadSequence()));
            }

            if (ids.Count == 0)
            {
                problem = "the request list is empty";
                return false;
            }

            byte[]? nonce = null;
            if (tbs.HasData)
            {
                var wrapper = tbs.ReadSequence(Explicit2);
                if (!TryReadExtensions(wrapper.ReadSequence(), out nonce, out problem))
                {
                    return false;
                }

                wrapper.ThrowIfNotEmpty();
            }

            tbs.ThrowIfNotEmpty();
            request = new OcspRequestInfo(ids, nonce);
            problem = null;
            return true;
        }
        catch (AsnContentException)
        {
            problem = "not a DER OCSPRequest";
            return false;
        }
        catch (CryptographicException)
        {
            problem = "not a DER OCSPRequest";
            return false;
        }
    }

    private static OcspCertificateId ReadRequest(AsnReader request)
    {
        var certId = request.ReadSequence();
        var algorithmBytes = certId.PeekEncodedValue().ToArray();
        var algorithm = certId.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        if (algorithm.HasData)
        {
            // Hash algorithms take no parameters, or NULL (RFC 5754 §2).
            algorithm.ReadNull();
        }

        algorithm.ThrowIfNotEmpty();
        var nameHash = certId.ReadOctetString();
        var keyHash = certId.ReadOctetString();
        var serial = certId.ReadIntegerBytes().ToArray();
        certId.ThrowIfNotEmpty();

        if (request.HasData)
        {
            // singleRequestExtensions [0]: none is supported, and none is needed to answer.
            request.ReadSequence(Explicit0);
        }

        request.ThrowIfNotEmpty();
        return new OcspCertificateId(algorithmBytes, oid, nameHash, keyHash, serial);
    }

    private static bool TryReadExtensions(AsnReader extensions, out byte[]? nonce, [NotNullWhen(false)] out string? problem)
    {
        nonce = null;
        problem = null;
        while (extensions.HasData)
        {
            var extension = extensions.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            var critical = extension.HasData && extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
            var value = extension.ReadOctetString();
            extension.ThrowIfNotEmpty();

            if (string.Equals(oid, NonceOid, StringComparison.Ordinal))
            {
                if (nonce is not null)
                {
                    problem = "two nonce extensions";
                    return false;
                }

                var length = NonceLength(value);
                if (length is < 1 or > MaxNonceBytes)
                {
                    problem = $"a nonce of {length} bytes (1 to {MaxNonceBytes} are accepted)";
                    return false;
                }

                nonce = value;
            }
            else if (critical)
            {
                // Non-critical extensions we do not know are ignored (RFC 6960 §4.4); a critical one cannot be.
                problem = $"unsupported critical extension {oid}";
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 9654 wraps the nonce in an OCTET STRING inside extnValue; older clients put it there bare.</summary>
    private static int NonceLength(byte[] extensionValue)
    {
        try
        {
            var reader = new AsnReader(extensionValue, AsnEncodingRules.DER);
            var inner = reader.ReadOctetString();
            if (!reader.HasData)
            {
                return inner.Length;
            }
        }
        catch (AsnContentException)
        {
        }

        return extensionValue.Length;
    }
}
