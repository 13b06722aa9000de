// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry;

/// <summary>Registry log events, ids 2000–2099. Codes and identifiers only, never keys or payloads.</summary>
internal static partial class RegistryLog
{
    [LoggerMessage(2000, LogLevel.Information, "Refused {Method}: {ErrorCode} (correlation id {CorrelationId})")]
    public static partial void Refused(ILogger logger, string method, string errorCode, string correlationId);

    [LoggerMessage(2030, LogLevel.Warning, "{Method} answered Storage.Unavailable: the registry's database could not be used (correlation id {CorrelationId})")]
    public static partial void StorageUnavailable(ILogger logger, string method, string correlationId, Exception exception);

    [LoggerMessage(2001, LogLevel.Information, "Registry for instance {Instance} serving gRPC on {GrpcAddress} and HTTP on {HttpAddress}")]
    public static partial void Serving(ILogger logger, string instance, string grpcAddress, string httpAddress);

    [LoggerMessage(2020, LogLevel.Information, "Registry web console serving on {ConsoleAddress}")]
    public static partial void ServingConsole(ILogger logger, string consoleAddress);

    [LoggerMessage(2002, LogLevel.Information, "Published global configuration version {Version}")]
    public static partial void Published(ILogger logger, ulong version);

    [LoggerMessage(2003, LogLevel.Error, "Refreshing the global configuration failed")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(2004, LogLevel.Critical, "Node {Node} submitted a signed, time-stamped tree head that does not extend the head the registry holds ({ErrorCode}); kept in tree_head_conflicts as evidence of a rewritten or broken message log")]
    public static partial void TreeHeadConflict(ILogger logger, string node, string errorCode);

    [LoggerMessage(2005, LogLevel.Information, "Recorded {Count} certificates of the key set (OCSP responder, TSA, administrator) that the certificate table did not hold")]
    public static partial void RecordedKeySetCertificates(ILogger logger, int count);

    // Debug: a flood would otherwise fill the log instead of the database; the count is in RegistryMetrics.
    [LoggerMessage(2008, LogLevel.Debug, "Rate-limited {Path}: Registry.RateLimited (correlation id {CorrelationId})")]
    public static partial void RateLimited(ILogger logger, string path, string correlationId);

    [LoggerMessage(2006, LogLevel.Information, "Expired {Count} registrations not decided in time")]
    public static partial void RegistrationsExpired(ILogger logger, int count);

    [LoggerMessage(2007, LogLevel.Error, "Expiring pending registrations failed")]
    public static partial void ExpiryFailed(ILogger logger, Exception exception);
}
