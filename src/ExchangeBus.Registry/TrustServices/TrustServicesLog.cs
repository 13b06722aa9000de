// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.TrustServices;

namespace ExchangeBus.Registry.TrustServices;

/// <summary>Time-stamping and OCSP log events, ids 2100–2199. Serial numbers and codes only, never keys or request bodies.</summary>
internal static partial class TrustServicesLog
{
    [LoggerMessage(2100, LogLevel.Debug, "Issued time-stamp token {SerialNumber} under policy {Policy}")]
    public static partial void TokenIssued(ILogger logger, string serialNumber, string policy);

    [LoggerMessage(2101, LogLevel.Debug, "Refused a time-stamp request: {FailureInfo} ({Reason})")]
    public static partial void TimeStampRefused(ILogger logger, TimeStampFailureInfo failureInfo, string reason);

    [LoggerMessage(2102, LogLevel.Error, "Time-stamping failed")]
    public static partial void TimeStampFailed(ILogger logger, Exception exception);

    [LoggerMessage(2103, LogLevel.Error, "The TSA certificate is valid {NotBefore:O} to {NotAfter:O}, not now ({Now:O}); no tokens are issued")]
    public static partial void TsaCertificateNotValid(ILogger logger, DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now);

    [LoggerMessage(2110, LogLevel.Debug, "Answered an OCSP request for {Count} certificate(s)")]
    public static partial void OcspAnswered(ILogger logger, int count);

    [LoggerMessage(2111, LogLevel.Debug, "Refused an OCSP request as malformed: {Reason}")]
    public static partial void OcspMalformed(ILogger logger, string reason);

    [LoggerMessage(2112, LogLevel.Error, "OCSP responding failed")]
    public static partial void OcspFailed(ILogger logger, Exception exception);

    [LoggerMessage(2120, LogLevel.Debug, "Refused {Path}: content type {ContentType}")]
    public static partial void WrongContentType(ILogger logger, string path, string? contentType);

    [LoggerMessage(2121, LogLevel.Debug, "Refused {Path}: body over {Limit} bytes")]
    public static partial void BodyTooLarge(ILogger logger, string path, int limit);
}
