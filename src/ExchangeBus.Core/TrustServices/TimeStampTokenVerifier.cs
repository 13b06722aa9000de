// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices.Internal;

namespace ExchangeBus.Core.TrustServices;

/// <summary>How <see cref="TimeStampTokenVerifier"/> judges a token.</summary>
public sealed record TimeStampVerifierOptions
{
    /// <summary>Our tokens are about 1 KiB with the TSA certificate; far bigger is not one of ours.</summary>
    public const int DefaultMaxTokenBytes = 64 * 1024;

    public int MaxTokenBytes { get; init; } = DefaultMaxTokenBytes;

    /// <summary>How far the token's time may be ahead of our clock (the TSA's clock may run a little fast).</summary>
    public TimeSpan AllowedClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Policy OIDs accepted; empty accepts any policy of a trusted TSA.</summary>
    public IReadOnlyList<string> AcceptedPolicies { get; init; } = [];
}

/// <summary>
/// Verifies RFC 3161 time-stamp tokens for nodes and auditors: the token decodes, its imprint is
/// the hash of the data, its signer is a trusted TSA whose certificate has timeStamping as its only,
/// critical, extended key usage, and the CMS signature with its ESS signing-certificate binding
/// verifies (.NET's <see cref="Rfc3161TimestampToken"/>). Never throws for a bad token: every
/// problem found is reported with a code from <see cref="TrustServiceErrors"/>.
/// </summary>
/// <remarks>
/// A signer is trusted when its certificate is one of the pinned TSA certificates (the global
/// configuration lists them), or when it chains to one of the trusted roots for the
/// <see cref="CertificateProfile.TimeStamping"/> profile. Either way the certificate is judged at
/// the token's time, not today's: a token stays valid after the TSA certificate expires.
/// Revocation of the TSA certificate is not checked here.
/// </remarks>
public sealed class TimeStampTokenVerifier : IDisposable
{
    private const string TstInfoOid = "1.2.840.113549.1.9.16.1.4";
    private const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";

    private readonly X509Certificate2[] pinned;
    private readonly X509Certificate2[] roots;
    private readonly TimeProvider timeProvider;
    private readonly TimeStampVerifierOptions options;

    /// <param name="trustedTsaCertificates">TSA certificates trusted as they are (copied).</param>
    /// <param name="trustedRoots">CA certificates a TSA certificate may chain to (copied); may be empty.</param>
    /// <param name="timeProvider">The clock "now" comes from (for tokens from the future).</param>
    /// <param name="options">Limits and accepted policies; defaults when null.</param>
    public TimeStampTokenVerifier(
        IEnumerable<X509Certificate2> trustedTsaCertificates,
        IEnumerable<X509Certificate2> trustedRoots,
        TimeProvider timeProvider,
        TimeStampVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trustedTsaCertificates);
        ArgumentNullException.ThrowIfNull(trustedRoots);
        ArgumentNullException.ThrowIfNull(timeProvider);
        pinned = trustedTsaCertificates.Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray();
        roots = trustedRoots.Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray();
        if (pinned.Length == 0 && roots.Length == 0)
        {
            throw new ArgumentException("At least one trusted TSA certificate or root is needed.", nameof(trustedTsaCertificates));
        }

        this.timeProvider = timeProvider;
        this.options = options ?? new TimeStampVerifierOptions();
    }

    /// <summary>Verifies a token (a DER ContentInfo) over <paramref name="data"/>, hashed with the token's imprint algorithm.</summary>
    public TimeStampVerificationResult VerifyTokenForData(ReadOnlySpan<byte> token, ReadOnlySpan<byte> data) =>
        Verify(token, data, isHash: false, expectedNonce: null);

    /// <summary>Verifies a token (a DER ContentInfo) whose imprint must be <paramref name="sha256Hash"/>.</summary>
    public TimeStampVerificationResult VerifyTokenForHash(ReadOnlySpan<byte> token, ReadOnlySpan<byte> sha256Hash) =>
        Verify(token, CheckSha256Length(sha256Hash), isHash: true, expectedNonce: null);

    /// <summary>Verifies the token inside a TimeStampResp over <paramref name="data"/>.</summary>
    public TimeStampVerificationResult VerifyResponseForData(ReadOnlySpan<byte> timeStampResponse, ReadOnlySpan<byte> data) =>
        VerifyResponse(timeStampResponse, data, isHash: false, expectedNonce: null);

    /// <summary>Verifies the token inside a TimeStampResp whose imprint must be <paramref name="sha256Hash"/>.</summary>
    public TimeStampVerificationResult VerifyResponseForHash(ReadOnlySpan<byte> timeStampResponse, ReadOnlySpan<byte> sha256Hash) =>
        VerifyResponse(timeStampResponse, CheckSha256Length(sha256Hash), isHash: true, expectedNonce: null);

    public void Dispose()
    {
        foreach (var certificate in pinned.Concat(roots))
        {
            certificate.Dispose();
        }
    }

    /// <summary>The client's entry: a reply to a request with <paramref name="expectedNonce"/> (INTEGER content octets).</summary>
    internal TimeStampVerificationResult VerifyResponse(
        ReadOnlySpan<byte> timeStampResponse, ReadOnlySpan<byte> dataOrHash, bool isHash, ReadOnlyMemory<byte>? expectedNonce)
    {
        if (!TimeStampResponse.TryDecode(timeStampResponse, out var response))
        {
            return TimeStampVerificationResult.Failure(
                TrustServiceErrors.TimeStampMalformed, "The reply is not a DER TimeStampResp (or is over the size limit).");
        }

        if (!response.IsGranted)
        {
            var text = response.StatusText is { Length: > 200 } longText ? longText[..200] + "…" : response.StatusText;
            return TimeStampVerificationResult.Failure(
                TrustServiceErrors.TimeStampRejected,
                $"The TSA answered {response.Status} (failure info {response.FailureInfo}){(text is null ? string.Empty : $": {text}")}.");
        }

        return Verify(response.Token!.Value.Span, dataOrHash, isHash, expectedNonce);
    }

    /// <summary><paramref name="dataOrHash"/> is the data, or with <paramref name="isHash"/> its SHA-256.</summary>
    internal TimeStampVerificationResult Verify(
        ReadOnlySpan<byte> token, ReadOnlySpan<byte> dataOrHash, bool isHash, ReadOnlyMemory<byte>? expectedNonce)
    {
        if (token.IsEmpty || token.Length > options.MaxTokenBytes)
        {
            return TimeStampVerificationResult.Failure(
                TrustServiceErrors.TimeStampMalformed,
                $"A token is 1 to {options.MaxTokenBytes} bytes; this one is {token.Length}.");
        }

        var tokenBytes = token.ToArray();
        if (!TryDecodeStructure(tokenBytes, out var cms, out var info))
        {
            return TimeStampVerificationResult.Failure(
                TrustServiceErrors.TimeStampMalformed, "Not a time-stamp token: a CMS SignedData with one signer over a TSTInfo.");
        }

        var errors = new List<TrustServiceError>();
        var genTime = info.Timestamp;
        var hashName = TrustServiceAlgorithms.ForImprint(info.HashAlgorithmId.Value);
        CheckImprint(info, hashName, dataOrHash, isHash, errors);
        CheckNonce(info, expectedNonce, errors);

        if (options.AcceptedPolicies.Count > 0 && !options.AcceptedPolicies.Contains(info.PolicyId.Value, StringComparer.Ordinal))
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.TimeStampUnacceptedPolicy, $"Policy {info.PolicyId.Value} is not one of the accepted policies."));
        }

        var now = timeProvider.GetUtcNow();
        if (genTime > now + options.AllowedClockSkew)
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.TimeStampFromTheFuture,
                $"The token's time {genTime:O} is ahead of now ({now:O}) by more than {options.AllowedClockSkew}."));
        }

        var signerInfo = cms.SignerInfos[0];
        var signer = signerInfo.Certificate ?? pinned.FirstOrDefault(signerInfo.SignerIdentifier.MatchesCertificate);
        if (signer is null)
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.TimeStampUntrustedSigner,
                "The token carries no signer certificate and its signer is not one of the trusted TSA certificates."));
        }
        else
        {
            var trustError = CheckSigner(signer, genTime, cms);
            if (trustError is not null)
            {
                errors.Add(trustError);

                // Still say whether the signature itself holds, so a forgery is not reported as merely untrusted.
                if (!CmsSignatureHolds(signerInfo, signer))
                {
                    errors.Add(InvalidSignature());
                }
            }
            else if (hashName is not null && !TokenSignatureHolds(tokenBytes, info, hashName.Value, signer))
            {
                errors.Add(InvalidSignature());
            }
        }

        return new TimeStampVerificationResult(errors.OrderBy(e => Priority(e.Code)).ToArray(), info, signer, tokenBytes);
    }

    private static int Priority(string code) => code switch
    {
        TrustServiceErrors.TimeStampInvalidSignature => 0,
        TrustServiceErrors.TimeStampUntrustedSigner => 1,
        TrustServiceErrors.TimeStampImprintMismatch or TrustServiceErrors.TimeStampUnsupportedAlgorithm => 2,
        TrustServiceErrors.TimeStampNonceMismatch => 3,
        TrustServiceErrors.TimeStampUnacceptedPolicy => 4,
        _ => 5,
    };

    private static TrustServiceError InvalidSignature() => new(
        TrustServiceErrors.TimeStampInvalidSignature,
        "The token's signature, or its binding to the signer certificate, does not verify.");

    private static bool TryDecodeStructure(byte[] token, out SignedCms cms, out Rfc3161TimestampTokenInfo info)
    {
        cms = new SignedCms();
        info = null!;
        try
        {
            // Exactly one encoded value: SignedCms would ignore bytes after it.
            AsnDecoder.ReadEncodedValue(token, AsnEncodingRules.BER, out _, out _, out var consumed);
            if (consumed != token.Length)
            {
                return false;
            }

            cms.Decode(token);
            if (!string.Equals(cms.ContentInfo.ContentType.Value, TstInfoOid, StringComparison.Ordinal)
                || cms.SignerInfos.Count != 1)
            {
                return false;
            }

            var content = cms.ContentInfo.Content;
            if (!Rfc3161TimestampTokenInfo.TryDecode(content, out var decoded, out var read) || read != content.Length)
            {
                return false;
            }

            info = decoded;
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    internal static ReadOnlySpan<byte> CheckSha256Length(ReadOnlySpan<byte> hash) =>
        hash.Length == SHA256.HashSizeInBytes
            ? hash
            : throw new ArgumentException($"A SHA-256 hash is {SHA256.HashSizeInBytes} bytes, not {hash.Length}.", nameof(hash));

    private static void CheckImprint(
        Rfc3161TimestampTokenInfo info, HashAlgorithmName? hashName, ReadOnlySpan<byte> dataOrHash, bool isHash, List<TrustServiceError> errors)
    {
        var algorithm = info.HashAlgorithmId.Value;
        if (hashName is null)
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.TimeStampUnsupportedAlgorithm,
                $"The token's imprint uses {TrustServiceAlgorithms.Describe(algorithm)}; only SHA-256, SHA-384 and SHA-512 are accepted."));
            return;
        }

        byte[] expected;
        if (isHash)
        {
            if (hashName != HashAlgorithmName.SHA256)
            {
                errors.Add(new TrustServiceError(
                    TrustServiceErrors.TimeStampImprintMismatch,
                    $"The token's imprint uses {TrustServiceAlgorithms.Describe(algorithm)}; the hash given is SHA-256."));
                return;
            }

            expected = dataOrHash.ToArray();
        }
        else
        {
            expected = TrustServiceAlgorithms.Hash(hashName.Value, dataOrHash);
        }

        if (!CryptographicOperations.FixedTimeEquals(info.GetMessageHash().Span, expected))
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.TimeStampImprintMismatch, "The token's message imprint is not the hash of the data."));
        }
    }

    private static void CheckNonce(Rfc3161TimestampTokenInfo info, ReadOnlyMemory<byte>? expectedNonce, List<TrustServiceError> errors)
    {
        if (expectedNonce is null)
        {
            return;
        }

        // Compared as integers: a TSA may re-encode the INTEGER minimally.
        var nonce = info.GetNonce();
        if (nonce is null
            || new BigInteger(nonce.Value.Span, isUnsigned: false, isBigEndian: true)
                != new BigInteger(expectedNonce.Value.Span, isUnsigned: false, isBigEndian: true))
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.TimeStampNonceMismatch, "The token does not carry the nonce of the request."));
        }
    }

    /// <summary>Null when <paramref name="signer"/> may sign time-stamps at <paramref name="genTime"/>, otherwise why not.</summary>
    private TrustServiceError? CheckSigner(X509Certificate2 signer, DateTimeOffset genTime, SignedCms cms)
    {
        // RFC 3161 §2.3: exactly one extended key usage extension, critical, holding timeStamping only.
        var usages = signer.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToArray();
        if (usages.Length != 1
            || !usages[0].Critical
            || usages[0].EnhancedKeyUsages.Count != 1
            || !string.Equals(usages[0].EnhancedKeyUsages[0].Value, TimeStampingOid, StringComparison.Ordinal))
        {
            return Untrusted(signer, "its certificate does not have timeStamping as its only, critical, extended key usage");
        }

        if (pinned.Any(p => p.RawData.AsSpan().SequenceEqual(signer.RawData)))
        {
            var notBefore = new DateTimeOffset(signer.NotBefore.ToUniversalTime(), TimeSpan.Zero);
            var notAfter = new DateTimeOffset(signer.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            return genTime < notBefore || genTime > notAfter
                ? Untrusted(signer, $"its certificate (valid {notBefore:O} to {notAfter:O}) was not valid at the token's time {genTime:O}")
                : null;
        }

        if (roots.Length == 0)
        {
            return Untrusted(signer, "it is not one of the trusted TSA certificates");
        }

        using var validator = new CertificateChainValidator(roots, new FixedTimeProvider(genTime));
        var intermediates = cms.Certificates.Cast<X509Certificate2>().Where(c => !c.RawData.AsSpan().SequenceEqual(signer.RawData));
        var result = validator.Validate(signer, CertificateProfile.TimeStamping, intermediates);
        return result.IsValid ? null : Untrusted(signer, $"at the token's time {genTime:O}: {result.Errors[0]}");
    }

    private static TrustServiceError Untrusted(X509Certificate2 signer, string why) => new(
        TrustServiceErrors.TimeStampUntrustedSigner, $"The token's signer '{signer.Subject}' is not a trusted TSA: {why}.");

    /// <summary>The CMS signature alone, for a signer already found untrusted.</summary>
    private static bool CmsSignatureHolds(SignerInfo signerInfo, X509Certificate2 signer)
    {
        try
        {
            signerInfo.CheckSignature([signer], verifySignatureOnly: true);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// .NET's RFC 3161 check: the CMS signature, the ESS signing-certificate attribute naming
    /// <paramref name="signer"/>, and the signer's validity at the token's time. The imprint was
    /// compared already, so the token's own hash is passed to isolate the signature.
    /// </summary>
    private static bool TokenSignatureHolds(byte[] tokenBytes, Rfc3161TimestampTokenInfo info, HashAlgorithmName hashName, X509Certificate2 signer)
    {
        if (!Rfc3161TimestampToken.TryDecode(tokenBytes, out var token, out var consumed) || consumed != tokenBytes.Length)
        {
            return false;
        }

        return token.VerifySignatureForHash(info.GetMessageHash().Span, hashName, out var verifiedBy, [signer])
            && verifiedBy is not null
            && verifiedBy.RawData.AsSpan().SequenceEqual(signer.RawData);
    }
}

/// <summary>The outcome of <see cref="TimeStampTokenVerifier"/>: valid, or every problem found.</summary>
public sealed class TimeStampVerificationResult
{
    private readonly byte[]? token;

    internal TimeStampVerificationResult(
        IReadOnlyList<TrustServiceError> errors, Rfc3161TimestampTokenInfo? info, X509Certificate2? signer, byte[]? token)
    {
        Errors = errors;
        GenTime = info?.Timestamp;
        PolicyOid = info?.PolicyId.Value;
        SerialNumber = info is null ? null : Convert.ToHexString(info.GetSerialNumber().Span);
        // A copy: the verifier's pinned certificates are its own to dispose.
        Signer = signer is null ? null : X509CertificateLoader.LoadCertificate(signer.RawData);
        this.token = token;
    }

    public bool IsValid => Errors.Count == 0;

    /// <summary>Every problem found, most telling first; empty when valid.</summary>
    public IReadOnlyList<TrustServiceError> Errors { get; }

    /// <summary>The code of the first problem, or null when valid.</summary>
    public string? Code => Errors.Count == 0 ? null : Errors[0].Code;

    /// <summary>The token's genTime; to be relied on only when <see cref="IsValid"/>.</summary>
    public DateTimeOffset? GenTime { get; }

    public string? PolicyOid { get; }

    /// <summary>The token's serial number in hex.</summary>
    public string? SerialNumber { get; }

    /// <summary>The signer's certificate, when found.</summary>
    public X509Certificate2? Signer { get; }

    /// <summary>The token (a ContentInfo) as received, for storing with the evidence; empty when not decodable.</summary>
    public ReadOnlyMemory<byte> Token => token;

    public override string ToString() => IsValid ? $"valid, genTime {GenTime:O}" : string.Join("; ", Errors);

    internal static TimeStampVerificationResult Failure(string code, string message) =>
        new([new TrustServiceError(code, message)], null, null, null);
}
