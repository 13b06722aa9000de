// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Grpc;
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
public sealed class EnvelopeVerification(TimeProvider timeProvider)
{
    private const int MaxCertificateBytes = 16 * 1024;
    private readonly Lock _gate = new();
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

    public VerifiedEnvelope Verify(SignedEnvelope envelope, GlobalConfigurationView view, Func<MessageHeader, MemberId?> expectedSigner, Codes codes)
    {
        ArgumentNullException.ThrowIfNull(envelope);
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

        X509Certificate2 signer;
        try
        {
            signer = X509CertificateLoader.LoadCertificate(envelope.SignerCertificate.Span);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            throw Refuse(StatusCode.InvalidArgument, codes.Malformed, "The signer certificate does not parse.");
        }

        var validation = Validator(view).Validate(signer, CertificateProfile.MemberSigning);
        if (!validation.IsValid)
        {
            throw Refuse(StatusCode.PermissionDenied, codes.InvalidCertificate, $"The signer certificate is not acceptable ({validation.Code}).");
        }

        var named = CertificateNames.ReadMemberSigning(signer.SubjectName);
        var expected = expectedSigner(header);
        if (expected is null || named is null
            || named != new MemberSubject(expected.Instance, expected.MemberClass, expected.MemberCode, null))
        {
            throw Refuse(StatusCode.PermissionDenied, codes.WrongSigner, $"The message is not signed by {expected?.ToString() ?? "the member it names"}.");
        }

        var toBeSigned = EnvelopeDigest.Compute(envelope.Header.Span, envelope.Body.Span);
        if (!EnvelopeVerifier.VerifyDigest(toBeSigned, envelope.Signature.Span, signer))
        {
            throw Refuse(StatusCode.PermissionDenied, codes.InvalidSignature, "The signature does not verify over the header and body received.");
        }

        var issuer = view.TrustedCertificateAuthorities.FirstOrDefault(ca => ca.SubjectName.RawData.AsSpan().SequenceEqual(signer.IssuerName.RawData));
        if (issuer is null)
        {
            throw Refuse(StatusCode.PermissionDenied, codes.InvalidCertificate, "The signer certificate's issuer is not a CA the configuration lists.");
        }

        var ocsp = new OcspResponseVerifier(timeProvider, new OcspVerifierOptions { FreshnessLimit = view.Parameters.OcspFreshness })
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

        return new VerifiedEnvelope(header, signer, toBeSigned);
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
