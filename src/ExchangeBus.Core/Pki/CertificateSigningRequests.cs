// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExchangeBus.Core.Pki.Internal;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// PKCS#10 certificate signing requests: made for our own keys, and parsed (as untrusted input)
/// at the certificate authority.
/// </summary>
public static class CertificateSigningRequests
{
    /// <summary>A P-256 CSR is well under 1 KiB; the bound keeps the ASN.1 decoder's work small.</summary>
    public const int MaxCsrBytes = 64 * 1024;

    private const string PemLabel = "CERTIFICATE REQUEST";

    // Written by some older tools (Netscape, old OpenSSL `-newhdr`).
    private const string LegacyPemLabel = "NEW CERTIFICATE REQUEST";

    /// <summary>Makes a DER CSR for <paramref name="subject"/>, self-signed with <paramref name="key"/> (ECDSA with SHA-256).</summary>
    public static byte[] Create(X500DistinguishedName subject, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(key);
        if (!EcKeys.IsP256(key))
        {
            throw new PkiException(PkiErrors.KeyUnsupportedCurve, "CSRs are made for ECDSA P-256 keys only.");
        }

        // Requested extensions are left out on purpose: the certificate authority decides them
        // from the profile and never copies them from a request.
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        return request.CreateSigningRequest();
    }

    /// <summary>Like <see cref="Create"/>, as PEM ("CERTIFICATE REQUEST").</summary>
    public static string CreatePem(X500DistinguishedName subject, ECDsa key) =>
        new string(PemEncoding.Write(PemLabel, Create(subject, key))) + "\n";

    /// <summary>Reads and parses a CSR file, refusing files over <see cref="MaxCsrBytes"/> before reading them.</summary>
    public static CsrParseResult ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = SecureFile.ReadBounded(path, MaxCsrBytes);
        }
        catch (PkiException ex) when (ex.Code == PkiErrors.FileTooLarge)
        {
            return CsrParseResult.Failure(PkiErrors.CsrTooLarge, ex.Message);
        }

        return Parse(bytes);
    }

    /// <summary>
    /// Parses a PKCS#10 CSR in PEM or DER. Succeeds only when the input is at most
    /// <see cref="MaxCsrBytes"/>, is one well-formed request with nothing after it, carries an
    /// ECDSA P-256 key on the named curve, and its self-signature verifies with that key.
    /// Requested extensions are ignored (they are not trusted input).
    /// </summary>
    public static CsrParseResult Parse(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxCsrBytes)
        {
            return CsrParseResult.Failure(
                PkiErrors.CsrTooLarge,
                $"CSR is {input.Length} bytes; at most {MaxCsrBytes} are accepted.");
        }

        if (input.IsEmpty)
        {
            return CsrParseResult.Failure(PkiErrors.CsrMalformed, "CSR is empty.");
        }

        byte[] der;
        if (PemFiles.LooksLikePem(input))
        {
            var decoded = DecodePem(input);
            if (decoded.Error is not null)
            {
                return CsrParseResult.Failure(decoded.Error.Code, decoded.Error.Message);
            }

            der = decoded.Der!;
        }
        else
        {
            der = input.ToArray();
        }

        // First without the signature check, so that a request with an unwanted key (RSA, P-384)
        // is refused for its key with a clear code, whatever its signature algorithm.
        CertificateRequest unverified;
        try
        {
            unverified = Load(der, CertificateRequestLoadOptions.SkipSignatureValidation);
        }
        catch (CryptographicException)
        {
            return CsrParseResult.Failure(PkiErrors.CsrMalformed, "Input is not a valid PKCS#10 certificate request.");
        }

        var keyError = EcKeys.CheckP256(unverified.PublicKey);
        if (keyError is not null)
        {
            return CsrParseResult.Failure(keyError.Code, keyError.Message);
        }

        CertificateRequest verified;
        try
        {
            verified = Load(der, CertificateRequestLoadOptions.Default);
        }
        catch (CryptographicException)
        {
            return CsrParseResult.Failure(
                PkiErrors.CsrBadSignature,
                "The CSR's signature does not verify with the public key it carries.");
        }

        return CsrParseResult.Success(new ParsedCsr(verified.SubjectName, verified.PublicKey, der));
    }

    private static CertificateRequest Load(byte[] der, CertificateRequestLoadOptions options)
    {
        var request = CertificateRequest.LoadSigningRequest(
            der,
            HashAlgorithmName.SHA256,
            out var consumed,
            options);
        if (consumed != der.Length)
        {
            throw new CryptographicException("Trailing data after the certificate request.");
        }

        return request;
    }

    private static (byte[]? Der, PkiError? Error) DecodePem(ReadOnlySpan<byte> input)
    {
        // PEM is ASCII; other bytes become '?' and fail the base64 check below.
        var text = Encoding.ASCII.GetString(input);
        if (!PemEncoding.TryFind(text, out var fields))
        {
            return (null, new PkiError(PkiErrors.CsrMalformed, "Input holds no valid PEM block."));
        }

        var label = text.AsSpan()[fields.Label];
        if (!label.SequenceEqual(PemLabel) && !label.SequenceEqual(LegacyPemLabel))
        {
            return (null, new PkiError(
                PkiErrors.CsrMalformed,
                $"PEM block is '{label}', expected '{PemLabel}'."));
        }

        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(text.AsSpan()[fields.Base64Data], der, out var written) || written != der.Length)
        {
            return (null, new PkiError(PkiErrors.CsrMalformed, "PEM block holds invalid base64."));
        }

        return (der, null);
    }
}

/// <summary>A CSR whose self-signature verified and whose key is ECDSA P-256.</summary>
public sealed class ParsedCsr
{
    private readonly byte[] der;

    internal ParsedCsr(X500DistinguishedName subject, PublicKey publicKey, byte[] der)
    {
        Subject = subject;
        PublicKey = publicKey;
        this.der = der;
    }

    /// <summary>The subject the requester asked for; the authority decides whether to use it.</summary>
    public X500DistinguishedName Subject { get; }

    public PublicKey PublicKey { get; }

    /// <summary>The request as received (DER), e.g. for an audit record.</summary>
    public ReadOnlyMemory<byte> Der => der;
}

/// <summary>The outcome of parsing a CSR: the request, or one error with a stable code.</summary>
public sealed class CsrParseResult
{
    private CsrParseResult(ParsedCsr? csr, PkiError? error)
    {
        Csr = csr;
        Error = error;
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Csr))]
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Csr is not null;

    public ParsedCsr? Csr { get; }

    public PkiError? Error { get; }

    internal static CsrParseResult Success(ParsedCsr csr) => new(csr, null);

    internal static CsrParseResult Failure(string code, string message) => new(null, new PkiError(code, message));
}
