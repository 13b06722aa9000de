// SPDX-License-Identifier: Apache-2.0
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ExchangeBus.Cli.Internal;

/// <summary>
/// Serilog as the sink only: components log through ILogger with source-generated messages, and
/// the serve commands hand this logger to the hosts (<c>AddSerilog</c>). Everything goes to
/// standard error, so standard output keeps the command's own lines.
/// </summary>
internal static class Logging
{
    /// <summary>
    /// Plain text for a person; with <paramref name="json"/>, one compact JSON object a line
    /// (CLEF: <c>@t</c>, <c>@l</c>, the rendered <c>@m</c>, <c>@i</c> the template's id, then the
    /// message's named values, <c>SourceContext</c> and <c>EventId</c>) for a log shipper.
    /// </summary>
    public static Serilog.Core.Logger Create(bool json)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning);
        return (json
            ? configuration.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            : configuration.WriteTo.Console(
                outputTemplate: "[{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose)).CreateLogger();
    }
}
