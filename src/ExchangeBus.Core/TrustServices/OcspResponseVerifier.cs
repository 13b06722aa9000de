// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;

namespace ExchangeBus.Core.TrustServices;

/// <summary>How <see cref="OcspResponseVerifier"/> judges a response.</summary>
public sealed record OcspVerifierOptions
{
    /// <summary>X-Road's default: a peer refuses an OCSP response older than an hour.</summary>
    public static readonly TimeSpan DefaultFreshnessLimit = TimeSpan.FromSeconds(3600);

    /// <summary>Our responses are about 1 KiB with the responder certificate.</summary>
    public const int DefaultMaxResponseBytes = 64 * 1024;

    /// <summary>How old thisUpdate may be.</summary>
    public TimeSpan FreshnessLimit { get; init; } = DefaultFreshnessLimit;

    /// <summary>How far thisUpdate and producedAt may be ahead of our clock, and nextUpdate behind it.</summary>
    public TimeSpan AllowedClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    public int MaxResponseBytes { get; init; } = DefaultMaxResponseBytes;

    /// <summary>
    /// The delegated responder certificates trusted for this CA, compared byte for byte; empty
    /// takes only responses the CA signs itself. Null takes any current OCSPSigning certificate
    /// the CA issued (RFC 6960 §4.2.2.2), which nobody can take back: a node sets it from the
    /// global configuration (<c>GlobalConfigurationView.OcspVerifierOptionsFor</c>), which drops a
    /// revoked responder.
    /// </summary>
    public IReadOnlyCollection<X509Certificate2>? DelegatedResponders { get; init; }
}

/// <summary>
/// Verifies an RFC 6960 OCSP response about one certificate: the response is successful and
/// basic, signed by the CA itself or by a current certificate the CA issued with the OCSPSigning
/// extended key usage, answers for exactly this certificate (CertID with SHA-1 or SHA-2), and is
/// fresh by the injected clock. Never throws for a bad response: every problem found is reported
/// with a code from <see cref="TrustServiceErrors"/>.
/// </summary>
/// <remarks>
/// The response is parsed with BouncyCastle (.NET has no OCSP decoder) only after the size bound
/// and a strict DER check of its envelope; the signature is checked with .NET.
/// </remarks>
public sealed class OcspResponseVerifier
{
    private const string OcspSigningOid = "1.3.6.1.5.5.7.3.9";
    private const string BasicResponseOid = "1.3.6.1.5.5.7.48.1.1";

    private static readonly Asn1Tag Explicit0 = new(TagClass.ContextSpecific, 0, isConstructed: true);

    private readonly TimeProvider timeProvider;
    private readonly OcspVerifierOptions options;

    public OcspResponseVerifier(TimeProvider timeProvider, OcspVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        this.timeProvider = timeProvider;
        this.options = options ?? new OcspVerifierOptions();
    }

    /// <summary>
    /// Verifies <paramref name="response"/> (a DER OCSPResponse) about <paramref name="certificate"/>,
    /// issued by <paramref name="issuer"/>. With <paramref name="expectedNonce"/>, the response must echo it.
    /// </summary>
    public OcspVerificationResult Verify(
        ReadOnlySpan<byte> response,
        X509Certificate2 certificate,
        X509Certificate2 issuer,
        ReadOnlyMemory<byte>? expectedNonce = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        if (response.IsEmpty || response.Length > options.MaxResponseBytes)
        {
            return OcspVerificationResult.Failure(
                TrustServiceErrors.OcspMalformed, $"An OCSP response is 1 to {options.MaxResponseBytes} bytes; this one is {response.Length}.");
        }

        var bytes = response.ToArray();
        if (!TryParse(bytes, out var status, out var basic))
        {
            return OcspVerificationResult.Failure(TrustServiceErrors.OcspMalformed, "Not a DER OCSPResponse.", bytes);
        }

        if (status != OcspResponseStatus.Successful || basic is null)
        {
            return new OcspVerificationResult(
                [new TrustServiceError(TrustServiceErrors.OcspUnsuccessful, $"The responder answered {status}.")],
                status,
                null,
                null,
                bytes);
        }

        var errors = new List<TrustServiceError>();
        var single = FindSingleResponse(basic, certificate, issuer, errors);
        CheckResponderAndSignature(basic, issuer, errors);
        CheckNonce(basic, expectedNonce, errors);
        CheckTimes(basic, single, errors);

        return new OcspVerificationResult(errors.OrderBy(e => Priority(e.Code)).ToArray(), status, basic.ProducedAt, single, bytes);
    }

    private static int Priority(string code) => code switch
    {
        TrustServiceErrors.OcspInvalidSignature => 0,
        TrustServiceErrors.OcspUntrustedResponder => 1,
        TrustServiceErrors.OcspCertificateMismatch => 2,
        TrustServiceErrors.OcspNonceMismatch => 3,
        TrustServiceErrors.OcspFromTheFuture => 4,
        _ => 5,
    };

    /// <summary>
    /// Every read of BouncyCastle objects happens here: they decode lazily (a bad time, say, only
    /// throws when read), so all fields are copied out at once into plain values.
    /// </summary>
    private static bool TryParse(byte[] bytes, out OcspResponseStatus status, out ParsedBasicResponse? basic)
    {
        status = OcspResponseStatus.InternalError;
        basic = null;
        try
        {
            if (!HasResponseShape(bytes, out var signedTbs, out var certificates))
            {
                return false;
            }

            var parsed = new OcspResp(bytes);
            status = (OcspResponseStatus)parsed.Status;
            if (parsed.Status != 0)
            {
                return true;
            }

            if (parsed.GetResponseObject() is not BasicOcspResp bc)
            {
                return false;
            }

            // The signature is checked over BouncyCastle's re-encoding of what it parsed, and its
            // parser forgives encodings DER does not allow: unless the two are the same bytes, a
            // response altered in transit would still verify (FsCheck found one, a flipped bit).
            var tbs = bc.GetTbsResponseData();
            if (!tbs.AsSpan().SequenceEqual(signedTbs.Span))
            {
                return false;
            }

            var responderId = bc.ResponderId.ToAsn1Object();
            basic = new ParsedBasicResponse(
                tbs,
                bc.GetSignature(),
                bc.SignatureAlgorithm.Algorithm.Id,
                responderId.GetKeyHash(),
                responderId.Name?.GetDerEncoded(),
                OcspVerificationResult.Utc(bc.ProducedAt),
                bc.Responses.Select(ParseSingle).ToArray(),
                certificates,
                bc.GetExtensionValue(OcspObjectIdentifiers.PkixOcspNonce)?.GetOctets());
            return true;
        }
#pragma warning disable CA1031 // BouncyCastle throws many unrelated types on bad input; all mean "malformed".
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>
    /// The envelope of an OCSPResponse and its BasicOCSPResponse, checked with .NET's strict DER
    /// reader before BouncyCastle sees them: its 1.8 parser did not check the tag numbers of
    /// responseBytes or certs, and would take trailing bytes.
    /// </summary>
    private static bool HasResponseShape(byte[] bytes, out ReadOnlyMemory<byte> tbsResponseData, out byte[][] certificates)
    {
        tbsResponseData = default;
        certificates = [];
        var outer = new AsnReader(bytes, AsnEncodingRules.DER);
        var response = outer.ReadSequence();
        outer.ThrowIfNotEmpty();
        response.ReadEnumeratedBytes();
        if (!response.HasData)
        {
            return true;
        }

        var wrapper = response.ReadSequence(Explicit0);
        response.ThrowIfNotEmpty();
        var responseBytes = wrapper.ReadSequence();
        wrapper.ThrowIfNotEmpty();
        var type = responseBytes.ReadObjectIdentifier();
        var basicBytes = responseBytes.ReadOctetString();
        responseBytes.ThrowIfNotEmpty();
        if (!string.Equals(type, BasicResponseOid, StringComparison.Ordinal))
        {
            return false;
        }

        var basicOuter = new AsnReader(basicBytes, AsnEncodingRules.DER);
        var basic = basicOuter.ReadSequence();
        basicOuter.ThrowIfNotEmpty();
        tbsResponseData = basic.PeekEncodedValue();
        basic.ReadSequence(); // tbsResponseData
        basic.ReadSequence(); // signatureAlgorithm
        basic.ReadBitString(out var unusedBits);
        if (unusedBits != 0)
        {
            return false;
        }

        if (basic.HasData)
        {
            // The certificates as sent, not as BouncyCastle re-encodes them: its DER encoder
            // mends what its parser forgave, so a certificate altered in transit would come out
            // as the one its CA signed.
            var wrapped = basic.ReadSequence(Explicit0);
            var list = wrapped.ReadSequence();
            wrapped.ThrowIfNotEmpty();
            var sent = new List<byte[]>();
            while (list.HasData)
            {
                sent.Add(list.PeekEncodedValue().ToArray());
                list.ReadSequence();
            }

            certificates = [.. sent];
        }

        basic.ThrowIfNotEmpty();
        return true;
    }

    private static ParsedSingleResponse ParseSingle(SingleResp single)
    {
        var id = single.GetCertID();
        var (certificateStatus, revocationTime, reason) = single.GetCertStatus() switch
        {
            null => (OcspCertificateStatus.Good, (DateTimeOffset?)null, (RevocationReason?)null),
            RevokedStatus revoked => (
                OcspCertificateStatus.Revoked,
                OcspVerificationResult.Utc(revoked.RevocationTime),
                revoked.HasRevocationReason ? (RevocationReason)revoked.RevocationReason : null),
            _ => (OcspCertificateStatus.Unknown, null, null),
        };
        return new ParsedSingleResponse(
            id.HashAlgOid,
            id.GetIssuerNameHash(),
            id.GetIssuerKeyHash(),
            id.SerialNumber.ToByteArray(),
            certificateStatus,
            revocationTime,
            reason,
            OcspVerificationResult.Utc(single.ThisUpdate),
            single.NextUpdate is { } next ? OcspVerificationResult.Utc(next) : null);
    }

    private static ParsedSingleResponse? FindSingleResponse(
        ParsedBasicResponse basic, X509Certificate2 certificate, X509Certificate2 issuer, List<TrustServiceError> errors)
    {
        if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData))
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.OcspCertificateMismatch,
                $"'{certificate.Subject}' was issued by '{certificate.Issuer}', not by '{issuer.Subject}'."));
            return null;
        }

        var serial = certificate.SerialNumberBytes.Span;
        var issuerKey = issuer.PublicKey.EncodedKeyValue.RawData;
        foreach (var single in basic.Responses)
        {
            var hashName = TrustServiceAlgorithms.ForCertificateId(single.HashAlgorithmOid);
            if (hashName is null || !single.SerialNumber.AsSpan().SequenceEqual(serial))
            {
                continue;
            }

            if (CryptographicOperations.FixedTimeEquals(single.IssuerNameHash, TrustServiceAlgorithms.Hash(hashName.Value, issuer.SubjectName.RawData))
                && CryptographicOperations.FixedTimeEquals(single.IssuerKeyHash, TrustServiceAlgorithms.Hash(hashName.Value, issuerKey)))
            {
                return single;
            }
        }

        errors.Add(new TrustServiceError(
            TrustServiceErrors.OcspCertificateMismatch,
            $"The response has no status for serial number {certificate.SerialNumber} of '{issuer.Subject}'."));
        return null;
    }

    private void CheckResponderAndSignature(ParsedBasicResponse basic, X509Certificate2 issuer, List<TrustServiceError> errors)
    {
        var embedded = new List<X509Certificate2>();
        try
        {
            foreach (var der in basic.Certificates)
            {
                embedded.Add(X509CertificateLoader.LoadCertificate(der));
            }

            var responder = Matches(basic, issuer) ? issuer : embedded.FirstOrDefault(c => Matches(basic, c));
            if (responder is null)
            {
                errors.Add(new TrustServiceError(
                    TrustServiceErrors.OcspUntrustedResponder,
                    "The responder is neither the issuer nor a certificate included in the response."));
                return;
            }

            if (!ReferenceEquals(responder, issuer))
            {
                var why = WhyNotDelegatedResponder(responder, issuer)
                    ?? (options.DelegatedResponders is { } listed && !listed.Any(l => l.RawData.AsSpan().SequenceEqual(responder.RawData))
                        ? "it is not a responder the configuration lists for this CA"
                        : null);
                if (why is not null)
                {
                    errors.Add(new TrustServiceError(
                        TrustServiceErrors.OcspUntrustedResponder, $"The responder '{responder.Subject}' is not trusted: {why}."));
                }
            }

            if (!SignatureHolds(basic, responder))
            {
                errors.Add(new TrustServiceError(
                    TrustServiceErrors.OcspInvalidSignature, $"The response signature does not verify with the key of '{responder.Subject}'."));
            }
        }
        catch (CryptographicException)
        {
            errors.Add(new TrustServiceError(TrustServiceErrors.OcspUntrustedResponder, "The response carries a certificate that does not decode."));
        }
        finally
        {
            foreach (var certificate in embedded)
            {
                certificate.Dispose();
            }
        }
    }

    private static bool Matches(ParsedBasicResponse basic, X509Certificate2 candidate)
    {
        if (basic.ResponderKeyHash is not null)
        {
            // byKey: SHA-1 of the subjectPublicKey BIT STRING's value (RFC 6960 §4.2.1).
            return CryptographicOperations.FixedTimeEquals(basic.ResponderKeyHash, SHA1.HashData(candidate.PublicKey.EncodedKeyValue.RawData));
        }

        return basic.ResponderName is not null && basic.ResponderName.AsSpan().SequenceEqual(candidate.SubjectName.RawData);
    }

    /// <summary>Null when <paramref name="responder"/> may answer for <paramref name="issuer"/> now (RFC 6960 §4.2.2.2).</summary>
    private string? WhyNotDelegatedResponder(X509Certificate2 responder, X509Certificate2 issuer)
    {
        if (!responder.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData))
        {
            return $"it was issued by '{responder.Issuer}', not by the CA '{issuer.Subject}'";
        }

        try
        {
            var parser = new X509CertificateParser();
            var bcResponder = parser.ReadCertificate(responder.RawData);

            // BouncyCastle checks the signature over its DER re-encoding of what it parsed, and
            // that re-encoding mends what its parser forgives (a BOOLEAN true sent as BF instead
            // of FF, say): unless it is the certificate's own bytes, an altered certificate would
            // still verify (the mutation test found one on the move to BouncyCastle 2).
            if (!bcResponder.GetEncoded().AsSpan().SequenceEqual(responder.RawData))
            {
                return "its certificate is not DER-encoded, so not the bytes its CA signed";
            }

            bcResponder.Verify(parser.ReadCertificate(issuer.RawData).GetPublicKey());
        }
#pragma warning disable CA1031 // BouncyCastle reports a bad signature with several exception types.
        catch (Exception)
#pragma warning restore CA1031
        {
            return $"its certificate is not signed by the CA '{issuer.Subject}'";
        }

        var now = timeProvider.GetUtcNow();
        var notBefore = new DateTimeOffset(responder.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(responder.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (now < notBefore || now > notAfter)
        {
            return $"its certificate is valid {notBefore:O} to {notAfter:O}, not now ({now:O})";
        }

        var usage = responder.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usage is null || !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => string.Equals(o.Value, OcspSigningOid, StringComparison.Ordinal)))
        {
            return "its certificate lacks the OCSPSigning extended key usage";
        }

        var keyUsage = responder.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (keyUsage is not null && !keyUsage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            return "its key usage lacks digitalSignature";
        }

        return null;
    }

    private static bool SignatureHolds(ParsedBasicResponse basic, X509Certificate2 responder)
    {
        // The bus signs with ECDSA (P-256) only; anything else does not verify here.
        HashAlgorithmName? hash = basic.SignatureAlgorithmOid switch
        {
            "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
            "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
            "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (hash is null)
        {
            return false;
        }

        using var key = responder.GetECDsaPublicKey();
        return key is not null
            && key.VerifyData(basic.TbsResponseData, basic.Signature, hash.Value, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static void CheckNonce(ParsedBasicResponse basic, ReadOnlyMemory<byte>? expectedNonce, List<TrustServiceError> errors)
    {
        if (expectedNonce is null)
        {
            return;
        }

        // RFC 9654: extnValue holds an OCTET STRING whose contents are the nonce.
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString(expectedNonce.Value.Span);
        if (basic.NonceExtensionValue is null || !CryptographicOperations.FixedTimeEquals(basic.NonceExtensionValue, writer.Encode()))
        {
            errors.Add(new TrustServiceError(TrustServiceErrors.OcspNonceMismatch, "The response does not echo the nonce of the request."));
        }
    }

    private void CheckTimes(ParsedBasicResponse basic, ParsedSingleResponse? single, List<TrustServiceError> errors)
    {
        var now = timeProvider.GetUtcNow();
        if (basic.ProducedAt > now + options.AllowedClockSkew)
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.OcspFromTheFuture, $"producedAt {basic.ProducedAt:O} is ahead of now ({now:O}) by more than {options.AllowedClockSkew}."));
        }

        if (single is null)
        {
            return;
        }

        if (single.ThisUpdate > now + options.AllowedClockSkew)
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.OcspFromTheFuture, $"thisUpdate {single.ThisUpdate:O} is ahead of now ({now:O}) by more than {options.AllowedClockSkew}."));
        }
        else if (now - single.ThisUpdate > options.FreshnessLimit)
        {
            errors.Add(new TrustServiceError(
                TrustServiceErrors.OcspStale, $"thisUpdate {single.ThisUpdate:O} is older than the freshness limit {options.FreshnessLimit} (now {now:O})."));
        }

        if (single.NextUpdate is { } next && next + options.AllowedClockSkew < now)
        {
            errors.Add(new TrustServiceError(TrustServiceErrors.OcspStale, $"nextUpdate {next:O} has passed (now {now:O})."));
        }
    }

    /// <summary>A BasicOCSPResponse copied out of BouncyCastle's objects.</summary>
    private sealed record ParsedBasicResponse(
        byte[] TbsResponseData,
        byte[] Signature,
        string SignatureAlgorithmOid,
        byte[]? ResponderKeyHash,
        byte[]? ResponderName,
        DateTimeOffset ProducedAt,
        IReadOnlyList<ParsedSingleResponse> Responses,
        IReadOnlyList<byte[]> Certificates,
        byte[]? NonceExtensionValue);
}

/// <summary>One SingleResponse copied out of BouncyCastle's objects.</summary>
internal sealed record ParsedSingleResponse(
    string HashAlgorithmOid,
    byte[] IssuerNameHash,
    byte[] IssuerKeyHash,
    byte[] SerialNumber,
    OcspCertificateStatus Status,
    DateTimeOffset? RevocationTime,
    RevocationReason? RevocationReason,
    DateTimeOffset ThisUpdate,
    DateTimeOffset? NextUpdate);

/// <summary>The outcome of <see cref="OcspResponseVerifier"/>.</summary>
public sealed class OcspVerificationResult
{
    private readonly byte[]? response;

    internal OcspVerificationResult(
        IReadOnlyList<TrustServiceError> errors,
        OcspResponseStatus? responseStatus,
        DateTimeOffset? producedAt,
        ParsedSingleResponse? single,
        byte[]? response)
    {
        Errors = errors;
        ResponseStatus = responseStatus;
        ProducedAt = producedAt;
        this.response = response;
        if (single is not null)
        {
            Status = single.Status;
            RevocationTime = single.RevocationTime;
            RevocationReason = single.RevocationReason;
            ThisUpdate = single.ThisUpdate;
            NextUpdate = single.NextUpdate;
        }
    }

    /// <summary>The response is sound: trusted, signed, about this certificate, fresh. Says nothing about <see cref="Status"/>.</summary>
    public bool IsValid => Errors.Count == 0;

    /// <summary>A sound response saying "good": what a peer requires before accepting a signature.</summary>
    public bool IsGood => IsValid && Status == OcspCertificateStatus.Good;

    /// <summary>Every problem found, most telling first; empty when valid.</summary>
    public IReadOnlyList<TrustServiceError> Errors { get; }

    /// <summary>The code of the first problem, or null when valid.</summary>
    public string? Code => Errors.Count == 0 ? null : Errors[0].Code;

    /// <summary>The OCSPResponseStatus, when the response decoded.</summary>
    public OcspResponseStatus? ResponseStatus { get; }

    /// <summary>The certificate's status, when the response has one for it; to be relied on only when <see cref="IsValid"/>.</summary>
    public OcspCertificateStatus? Status { get; }

    public DateTimeOffset? RevocationTime { get; }

    /// <summary>The CRL reason, when the responder gave one.</summary>
    public RevocationReason? RevocationReason { get; }

    public DateTimeOffset? ThisUpdate { get; }

    public DateTimeOffset? NextUpdate { get; }

    public DateTimeOffset? ProducedAt { get; }

    /// <summary>The DER response as received, to send along with messages; empty when over the size limit.</summary>
    public ReadOnlyMemory<byte> Response => response;

    public override string ToString() => IsValid ? $"valid, {Status}, thisUpdate {ThisUpdate:O}" : string.Join("; ", Errors);

    internal static OcspVerificationResult Failure(string code, string message, byte[]? response = null) =>
        new([new TrustServiceError(code, message)], null, null, null, response);

    /// <summary>BouncyCastle hands out GeneralizedTime values as DateTime of whatever kind; they are UTC.</summary>
    internal static DateTimeOffset Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
    };
}
