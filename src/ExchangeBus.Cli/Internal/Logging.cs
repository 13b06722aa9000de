// SPDX-License-Identifier: Apache-2.0
using Serilog;
using Serilog.Formatting.Json;

namespace ExchangeBus.Cli.Internal;

/// <summary>Serilog as the sink only; components log through ILogger with source-generated messages.</summary>
internal static class Logging
{
    public static Serilog.Core.Logger Create(bool json)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning);
        return (json
            ? configuration.WriteTo.Console(new JsonFormatter(renderMessage: true), standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
            : configuration.WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)).CreateLogger();
    }
}
