// SPDX-License-Identifier: Apache-2.0
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using ExchangeBus.Core.TrustServices.Internal;

namespace ExchangeBus.Core.TrustServices;

/// <summary>
/// Asks a TSA for a token over HTTP (RFC 3161 §3.4) and verifies the answer before returning it:
/// a request for a SHA-256 hash with a fresh 128-bit nonce and certReq set, the reply's nonce
/// and imprint checked, the token verified by <see cref="TimeStampTokenVerifier"/>.
/// </summary>
/// <remarks>
/// What the TSA answers (a rejection, a bad token, an HTTP error status) is a result, not an
/// exception; failures to reach it at all (<see cref="HttpRequestException"/>, timeouts) are
/// thrown as they are, since the caller retries those.
/// </remarks>
public sealed class TimeStampClient(HttpClient httpClient, Uri tsaAddress, TimeStampTokenVerifier verifier)
{
    /// <summary>Time-stamps the SHA-256 hash <paramref name="sha256Hash"/> (for the message log: a tree head).</summary>
    public async Task<TimeStampVerificationResult> RequestAsync(ReadOnlyMemory<byte> sha256Hash, CancellationToken cancellationToken = default)
    {
        TimeStampTokenVerifier.CheckSha256Length(sha256Hash.Span);
        var request = Rfc3161TimestampRequest.CreateFromHash(
            sha256Hash,
            HashAlgorithmName.SHA256,
            requestedPolicyId: null,
            nonce: RandomNumberGenerator.GetBytes(16),
            requestSignerCertificates: true);

        using var content = new ByteArrayContent(request.Encode());
        content.Headers.ContentType = new MediaTypeHeaderValue(TrustServiceMediaTypes.TimeStampQuery);
        using var response = await httpClient.PostAsync(tsaAddress, content, cancellationToken);

        var body = await BoundedHttp.ReadReplyAsync(
            response, TrustServiceMediaTypes.TimeStampReply, TimeStampResponse.DefaultMaxBytes, cancellationToken);
        if (body.Problem is not null)
        {
            return TimeStampVerificationResult.Failure(TrustServiceErrors.TimeStampBadResponse, body.Problem);
        }

        // The nonce as the request encoded it (CreateFromHash may add a leading zero byte).
        return verifier.VerifyResponse(body.Bytes, sha256Hash.Span, isHash: true, request.GetNonce());
    }
}
