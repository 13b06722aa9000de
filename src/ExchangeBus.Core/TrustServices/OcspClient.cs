// SPDX-License-Identifier: Apache-2.0
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.TrustServices.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace ExchangeBus.Core.TrustServices;

/// <summary>
/// Fetches the OCSP status of one certificate over HTTP POST (RFC 6960 appendix A) and verifies
/// it with <see cref="OcspResponseVerifier"/>, including the echo of a fresh 32-byte nonce. A node
/// does this for its own certificates and sends the response (<see cref="OcspVerificationResult.Response"/>)
/// along with its messages.
/// </summary>
/// <remarks>
/// What the responder answers is a result; failures to reach it (<see cref="HttpRequestException"/>,
/// timeouts) are thrown as they are, since the caller retries those.
/// </remarks>
public sealed class OcspClient(HttpClient httpClient, Uri responderAddress, OcspResponseVerifier verifier)
{
    /// <summary>RFC 9654: new clients should send 32 octets.</summary>
    public const int NonceBytes = 32;

    /// <summary>Asks for and verifies the status of <paramref name="certificate"/>, issued by <paramref name="issuer"/>.</summary>
    public async Task<OcspVerificationResult> CheckAsync(
        X509Certificate2 certificate, X509Certificate2 issuer, CancellationToken cancellationToken = default)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        using var content = new ByteArrayContent(CreateRequest(certificate, issuer, nonce));
        content.Headers.ContentType = new MediaTypeHeaderValue(TrustServiceMediaTypes.OcspRequest);
        using var response = await httpClient.PostAsync(responderAddress, content, cancellationToken);

        var body = await BoundedHttp.ReadReplyAsync(
            response, TrustServiceMediaTypes.OcspResponse, OcspVerifierOptions.DefaultMaxResponseBytes, cancellationToken);
        return body.Problem is not null
            ? OcspVerificationResult.Failure(TrustServiceErrors.OcspBadResponse, body.Problem)
            : verifier.Verify(body.Bytes, certificate, issuer, nonce);
    }

    /// <summary>
    /// A DER OCSPRequest for one certificate: a SHA-256 CertID and, when <paramref name="nonce"/> is
    /// not empty, the nonce extension (an OCTET STRING inside extnValue, RFC 9654).
    /// </summary>
    public static byte[] CreateRequest(X509Certificate2 certificate, X509Certificate2 issuer, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        var bcIssuer = new X509CertificateParser().ReadCertificate(issuer.RawData);
        var id = new CertificateID(
            new AlgorithmIdentifier(new DerObjectIdentifier(TrustServiceAlgorithms.Sha256Oid), DerNull.Instance),
            bcIssuer,
            new BcBigInteger(certificate.SerialNumberBytes.ToArray()));

        var generator = new OcspReqGenerator();
        generator.AddRequest(id);
        if (!nonce.IsEmpty)
        {
            var extensions = new X509ExtensionsGenerator();
            extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(nonce.ToArray()));
            generator.SetRequestExtensions(extensions.Generate());
        }

        return generator.Generate().GetEncoded();
    }
}
