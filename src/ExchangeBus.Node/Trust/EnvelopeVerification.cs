// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Core.TrustServices;
using Grpc.Core;
using Google.Protobuf;

namespace ExchangeBus.Node.Trust;

/// <summary>A verified envelope: its header as parsed from the signed bytes, and who signed it.</summary>
public sealed record VerifiedEnvelope(MessageHeader Header, X509Certificate2 Signer, byte[] ToBeSigned);

/// <summary>
/// Checks a signed envelope against the global configuration: the header parses; the signer's
/// certificate chains to a CA the configuration trusts and is a member-signing certificate; it
/// names the member expected to have signed; the signature covers exactly the bytes received;
/// and the OCSP response sent with it is from that CA's responder, fresh, and says good.
/// </summary>
/// <remarks>
/// The chain and OCSP checks cost milliseconds (X509Chain, a BouncyCastle parse and a second
/// signature check) and a peer sends the same certificate and response with every message for
/// twenty minutes, so a pair that passed is remembered until a time check could fail it. The
/// signature, the signer's name and everything about the message are checked every time.
/// </remarks>
public sealed class EnvelopeVerification(TimeProvider timeProvider)
{
    private const int MaxCertificateBytes = 16 * 1024;
    private const int MaxCheckedSigners = 1_024;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, CheckedSigner> _checked = new(StringComparer.Ordinal);

    // A peer's batch costs one ECDSA verification: the rest of its envelopes check their path.
    private readonly BatchRootCache _roots = new();
    private (ulong Version, CertificateChainValidator Validator)? _validator;

    /// <summary>Codes to answer with, so the same checks serve the provider (request) and the client (response).</summary>
    public sealed record Codes(
        string Malformed,
        string InvalidSignature,
        string InvalidCertificate,
        string WrongSigner,
        string Revoked,
        string StaleOcsp,
        string InvalidOcsp);

    public static readonly Codes ProviderCodes = new(
        NodeErrors.MalformedMessage, NodeErrors.InvalidSignature, NodeErrors.InvalidSignerCertificate,
        NodeErrors.SignerNotClient, NodeErrors.CertificateRevoked, NodeErrors.StaleOcsp, NodeErrors.InvalidOcsp);

    public static readonly Codes ClientCodes = new(
        NodeErrors.InvalidResponse, NodeErrors.InvalidResponse, NodeErrors.InvalidResponse,
        NodeErrors.InvalidResponse, NodeErrors.InvalidResponse, NodeErrors.InvalidResponse, NodeErrors.InvalidResponse);

    public VerifiedEnvelope Verify(SignedEnvelope envelope, GlobalConfigurationView view, Func<MessageHeader, MemberId?> expectedSigner, Codes codes) =>
        Verify(envelope, view, expectedSigner, codes, signedBodySha256: null);

    /// <summary>
    /// Like <see cref="Verify(SignedEnvelope, GlobalConfigurationView, Func{MessageHeader, MemberId?}, Codes)"/>,
    /// for a document whose signed body does not travel in the envelope (file sync: the body is
    /// the file, sent in chunks): the signature is checked over SHA-256(header) ‖ the hash the
    /// header states for the body. A header that states none is malformed.
    /// </summary>
    public VerifiedEnvelope Verify(
        SignedEnvelope envelope, GlobalConfigurationView view, Func<MessageHeader, MemberId?> expectedSigner, Codes codes, Func<MessageHeader, byte[]?>? signedBodySha256)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(view);
        MessageHeader header;
        try
        {
            header = MessageHeader.Parser.ParseFrom(envelope.Header);
        }
        catch (InvalidProtocolBufferException)
        {
            throw Refuse(StatusCode.InvalidArgument, codes.Malformed, "The message header is not a valid MessageHeader.");
        }

        if (envelope.SignerCertificate.Length is 0 or > MaxCertificateBytes)
        {
            throw Refuse(StatusCode.InvalidArgument, codes.Malformed, "The signer certificate is missing or too large.");
        }

        var now = timeProvider.GetUtcNow();
        var cacheKey = CacheKey(envelope);
        var known = _checked.TryGetValue(cacheKey, out var hit) && hit.StillHolds(envelope, view.Version, now) ? hit : null;
        X509Certificate2 signer;
        if (known is not null)
        {
            signer = known.Certificate;
        }
        else
        {
            try
            {
                // Exactly the DER: the log keeps and hashes the bytes as sent (a property test
                // found a byte appended to a genuine certificate accepted by the plain loader).
                signer = DerCertificate.Load(envelope.SignerCertificate.Span);
            }
            catch (CryptographicException)
            {
                throw Refuse(StatusCode.InvalidArgument, codes.Malformed, "The signer certificate is not one DER-encoded certificate.");
            }

            var validation = Validator(view).Validate(signer, CertificateProfile.MemberSigning);
            if (!validation.IsValid)
            {
                throw Refuse(StatusCode.PermissionDenied, codes.InvalidCertificate, $"The signer certificate is not acceptable ({validation.Code}).");
            }
        }

        var named = known is not null ? known.Named : CertificateNames.ReadMemberSigning(signer.SubjectName);
        var expected = expectedSigner(header);
        if (expected is null || named is null
            || named != new MemberSubject(expected.Instance, expected.MemberClass, expected.MemberCode, null))
        {
            throw Refuse(StatusCode.PermissionDenied, codes.WrongSigner, $"The message is not signed by {expected?.ToString() ?? "the member it names"}.");
        }

        byte[] toBeSigned;
        if (signedBodySha256 is null)
        {
            toBeSigned = EnvelopeDigest.Compute(envelope.Header.Span, envelope.Body.Span);
        }
        else if (envelope.Body.IsEmpty && signedBodySha256(header) is { Length: SHA256.HashSizeInBytes } bodyHash)
        {
            toBeSigned = EnvelopeDigest.FromHashes(SHA256.HashData(envelope.Header.Span), bodyHash);
        }
        else
        {
            throw Refuse(StatusCode.InvalidArgument, codes.Malformed, "The document states no hash of what it signs, or carries a body it should not.");
        }

        var signatureHolds = known is not null
            // A remembered key comes from a certificate whose signature already verified through the P-256 check.
            ? EnvelopeVerifier.Check(toBeSigned, envelope.Signature.Span, known.Key, known.KeyId, _roots).IsValid
            : EnvelopeVerifier.VerifyDigest(toBeSigned, envelope.Signature.Span, signer);
        if (!signatureHolds)
        {
            throw Refuse(StatusCode.PermissionDenied, codes.InvalidSignature, "The signature does not verify over the header and body received.");
        }

        if (known is null)
        {
            var ocsp = CheckStatus(envelope, view, signer, codes);
            Remember(cacheKey, envelope, view, signer, named, ocsp, now);
        }

        return new VerifiedEnvelope(header, signer, toBeSigned);
    }

    /// <summary>The signer's CA, and the OCSP response sent with the message: from that CA's responder, fresh, and good.</summary>
    private OcspVerificationResult CheckStatus(SignedEnvelope envelope, GlobalConfigurationView view, X509Certificate2 signer, Codes codes)
    {
        var issuer = view.TrustedCertificateAuthorities.FirstOrDefault(ca => ca.SubjectName.RawData.AsSpan().SequenceEqual(signer.IssuerName.RawData));
        if (issuer is null)
        {
            throw Refuse(StatusCode.PermissionDenied, codes.InvalidCertificate, "The signer certificate's issuer is not a CA the configuration lists.");
        }

        var ocsp = new OcspResponseVerifier(timeProvider, view.OcspVerifierOptionsFor(issuer))
            .Verify(envelope.SignerOcspResponse.Span, signer, issuer);
        if (!ocsp.IsValid)
        {
            throw ocsp.Code == TrustServiceErrors.OcspStale
                ? Refuse(StatusCode.PermissionDenied, codes.StaleOcsp, "The OCSP response sent with the message is older than the freshness limit.")
                : Refuse(StatusCode.PermissionDenied, codes.InvalidOcsp, $"The OCSP response sent with the message is not acceptable ({ocsp.Code}).");
        }

        if (ocsp.Status != OcspCertificateStatus.Good)
        {
            throw Refuse(StatusCode.PermissionDenied, codes.Revoked, $"The signer certificate is {ocsp.Status?.ToString().ToLowerInvariant()}.");
        }

        return ocsp;
    }

    /// <summary>
    /// Keeps what the chain and OCSP checks established for a certificate and response that
    /// passed them, until the first moment a time check could answer differently: the
    /// certificate's or its CA's expiry, the response's freshness limit or nextUpdate.
    /// </summary>
    private void Remember(string key, SignedEnvelope envelope, GlobalConfigurationView view, X509Certificate2 signer, MemberSubject named, OcspVerificationResult ocsp, DateTimeOffset now)
    {
        var issuer = view.TrustedCertificateAuthorities.First(ca => ca.SubjectName.RawData.AsSpan().SequenceEqual(signer.IssuerName.RawData));
        var options = view.OcspVerifierOptionsFor(issuer);
        var until = Min(new DateTimeOffset(signer.NotAfter.ToUniversalTime()), new DateTimeOffset(issuer.NotAfter.ToUniversalTime()));
        until = Min(until, ocsp.ThisUpdate!.Value + options.FreshnessLimit);
        if (ocsp.NextUpdate is { } next)
        {
            until = Min(until, next + options.AllowedClockSkew);
        }

        var key256 = signer.GetECDsaPublicKey();
        if (key256 is null)
        {
            return;
        }

        if (_checked.Count >= MaxCheckedSigners)
        {
            // A bus has as many signers as members; past this something is odd, so start over.
            // Evicted entries are not disposed: a call may still hold them (the GC finalizes them).
            _checked.Clear();
        }

        _checked[key] = new CheckedSigner(
            view.Version, envelope.SignerCertificate.ToByteArray(), envelope.SignerOcspResponse.ToByteArray(), signer, key256, key256.ExportSubjectPublicKeyInfo(), named, now, until);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static string CacheKey(SignedEnvelope envelope)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(envelope.SignerCertificate.Span);
        hash.AppendData(envelope.SignerOcspResponse.Span);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>A signer certificate and OCSP response that passed every check but the signature, with its parsed parts.</summary>
    private sealed record CheckedSigner(
        ulong ConfigurationVersion,
        byte[] CertificateDer,
        byte[] OcspResponse,
        X509Certificate2 Certificate,
        ECDsa Key,
        byte[] KeyId,
        MemberSubject Named,
        DateTimeOffset CheckedAt,
        DateTimeOffset ReuseUntil)
    {
        /// <summary>
        /// The same bytes (compared, not trusted to the hash), the same configuration, and a time
        /// between the checks and the first expiry. A clock that went back is checked afresh.
        /// </summary>
        public bool StillHolds(SignedEnvelope envelope, ulong version, DateTimeOffset now) =>
            version == ConfigurationVersion && now >= CheckedAt && now <= ReuseUntil
            && envelope.SignerCertificate.Span.SequenceEqual(CertificateDer)
            && envelope.SignerOcspResponse.Span.SequenceEqual(OcspResponse);
    }

    private CertificateChainValidator Validator(GlobalConfigurationView view)
    {
        lock (_gate)
        {
            if (_validator is not { } cached || cached.Version != view.Version)
            {
                _validator?.Validator.Dispose();
                _validator = (view.Version, new CertificateChainValidator(view.TrustedCertificateAuthorities, timeProvider));
            }

            return _validator.Value.Validator;
        }
    }

    private static NodeException Refuse(StatusCode status, string code, string message) => new(status, code, message);
}
