// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.TrustServices;

/// <summary>The media types of RFC 3161 §3.4 and RFC 6960 appendix A, shared by the endpoints and the clients.</summary>
public static class TrustServiceMediaTypes
{
    public const string TimeStampQuery = "application/timestamp-query";
    public const string TimeStampReply = "application/timestamp-reply";
    public const string OcspRequest = "application/ocsp-request";
    public const string OcspResponse = "application/ocsp-response";
}
