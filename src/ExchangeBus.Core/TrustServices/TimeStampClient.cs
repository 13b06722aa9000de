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
    public Task<TimeStampVerificationResult> RequestAsync(ReadOnlyMemory<byte> sha256Hash, CancellationToken cancellationToken = default)
    {
        TimeStampTokenVerifier.CheckSha256Length(sha256Hash.Span);
        return RequestAsync(sha256Hash, HashAlgorithmName.SHA256, sha256Hash, isHash: true, cancellationToken);
    }

    /// <summary>
    /// Time-stamps <paramref name="data"/> (only its hash is sent) with an imprint of
    /// <paramref name="algorithm"/>, one of SHA-256, SHA-384 and SHA-512: evidence renewal may
    /// ask for a stronger hash than the one the earlier tokens used.
    /// </summary>
    public Task<TimeStampVerificationResult> RequestForDataAsync(ReadOnlyMemory<byte> data, HashAlgorithmName algorithm, CancellationToken cancellationToken = default)
    {
        if (algorithm != HashAlgorithmName.SHA256 && algorithm != HashAlgorithmName.SHA384 && algorithm != HashAlgorithmName.SHA512)
        {
            throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Imprints are SHA-256, SHA-384 or SHA-512.");
        }

        return RequestAsync(TrustServiceAlgorithms.Hash(algorithm, data.Span), algorithm, data, isHash: false, cancellationToken);
    }

    private async Task<TimeStampVerificationResult> RequestAsync(
        ReadOnlyMemory<byte> hash, HashAlgorithmName algorithm, ReadOnlyMemory<byte> dataOrHash, bool isHash, CancellationToken cancellationToken)
    {
        var request = Rfc3161TimestampRequest.CreateFromHash(
            hash,
            algorithm,
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
        return verifier.VerifyResponse(body.Bytes, dataOrHash.Span, isHash, request.GetNonce());
    }
}
