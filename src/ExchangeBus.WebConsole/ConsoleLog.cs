// SPDX-License-Identifier: Apache-2.0
using Microsoft.Extensions.Logging;

namespace ExchangeBus.WebConsole;

/// <summary>The shared console's log messages (event ids 5000-5099). No account names, addresses or certificates: those are personal data.</summary>
internal static partial class ConsoleLog
{
    [LoggerMessage(5000, LogLevel.Warning, "Console login refused before its password was checked: {Code} (correlation {CorrelationId})")]
    public static partial void LoginRateLimited(ILogger logger, string code, string correlationId);

    [LoggerMessage(5001, LogLevel.Information, "Console certificate login refused: {Code} (correlation {CorrelationId})")]
    public static partial void CertificateRefused(ILogger logger, string code, string correlationId);
}
