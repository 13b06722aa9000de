// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.TrustServices;

/// <summary>
/// Stable error codes for time-stamp and OCSP verification. Callers (message log, gRPC status
/// details, audit events) match on these strings, so they never change once released; messages may.
/// </summary>
public static class TrustServiceErrors
{
    /// <summary>Not a decodable time-stamp token or TimeStampResp, or over the size limit.</summary>
    public const string TimeStampMalformed = "TimeStamp.Malformed";

    /// <summary>The TSA answered with a status other than granted.</summary>
    public const string TimeStampRejected = "TimeStamp.Rejected";

    /// <summary>The HTTP answer was not a time-stamp reply (status, media type, size).</summary>
    public const string TimeStampBadResponse = "TimeStamp.BadResponse";

    /// <summary>The token's message imprint is not the hash of the data.</summary>
    public const string TimeStampImprintMismatch = "TimeStamp.ImprintMismatch";

    /// <summary>The token's imprint uses a hash algorithm the bus does not accept.</summary>
    public const string TimeStampUnsupportedAlgorithm = "TimeStamp.UnsupportedAlgorithm";

    /// <summary>The token does not carry the nonce of the request.</summary>
    public const string TimeStampNonceMismatch = "TimeStamp.NonceMismatch";

    /// <summary>The token was issued under a policy the caller does not accept.</summary>
    public const string TimeStampUnacceptedPolicy = "TimeStamp.UnacceptedPolicy";

    /// <summary>The signer is not a trusted TSA, or its certificate is not a TSA certificate.</summary>
    public const string TimeStampUntrustedSigner = "TimeStamp.UntrustedSigner";

    /// <summary>The token's signature, or its binding to the signer certificate, does not verify.</summary>
    public const string TimeStampInvalidSignature = "TimeStamp.InvalidSignature";

    /// <summary>The token's time is later than now plus the allowed clock skew.</summary>
    public const string TimeStampFromTheFuture = "TimeStamp.FromTheFuture";

    /// <summary>Not a decodable OCSPResponse, or over the size limit.</summary>
    public const string OcspMalformed = "Ocsp.Malformed";

    /// <summary>The responder answered with a status other than successful.</summary>
    public const string OcspUnsuccessful = "Ocsp.Unsuccessful";

    /// <summary>The HTTP answer was not an OCSP response (status, media type, size).</summary>
    public const string OcspBadResponse = "Ocsp.BadResponse";

    /// <summary>The response signature does not verify with the responder's key.</summary>
    public const string OcspInvalidSignature = "Ocsp.InvalidSignature";

    /// <summary>The responder is neither the CA nor a current OCSP-signing certificate issued by it.</summary>
    public const string OcspUntrustedResponder = "Ocsp.UntrustedResponder";

    /// <summary>The response says nothing about the certificate asked about.</summary>
    public const string OcspCertificateMismatch = "Ocsp.CertificateMismatch";

    /// <summary>thisUpdate is older than the freshness limit, or nextUpdate has passed.</summary>
    public const string OcspStale = "Ocsp.Stale";

    /// <summary>thisUpdate or producedAt is later than now plus the allowed clock skew.</summary>
    public const string OcspFromTheFuture = "Ocsp.FromTheFuture";

    /// <summary>The response does not echo the nonce of the request.</summary>
    public const string OcspNonceMismatch = "Ocsp.NonceMismatch";
}

/// <summary>One problem, with a stable <see cref="Code"/> from <see cref="TrustServiceErrors"/>.</summary>
public sealed record TrustServiceError(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}
