// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// The node's metrics pipeline: <see cref="NodeMetrics"/> and ASP.NET Core's own meters,
/// exported in the Prometheus text format by OpenTelemetry's exporter at <c>/metrics</c>.
/// </summary>
/// <remarks>
/// OpenTelemetry subscribes by meter name when meters are added with <c>AddMeter</c>, which would
/// make one node's <c>/metrics</c> count every node in the process. Here no meter is added to the
/// provider: the host's metrics rules (<c>EnableMetrics</c>) choose, and
/// <see cref="MeterScope.Local"/> takes only meters made by this host's <see cref="IMeterFactory"/>.
/// The runtime's meter is process-wide by nature, so it is taken as global.
/// </remarks>
public static class NodeMetricsExtensions
{
    /// <summary>The meters exported: the node's, then ASP.NET Core's (connections, TLS handshakes, requests by gRPC method).</summary>
    public static readonly IReadOnlyList<string> LocalMeters =
        [NodeMetrics.MeterName, "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Hosting"];

    /// <summary>The .NET runtime's meter (GC, memory, CPU, thread pool): the process's, whichever node reports it.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <summary>
    /// Registers <see cref="NodeMetrics"/> (it needs the node's <c>SqliteMessageLog</c> in the
    /// container) and the exporter; <see cref="MapNodeMetrics"/> serves it.
    /// </summary>
    public static IServiceCollection AddNodeMetrics(this IServiceCollection services)
    {
        services.AddSingleton<NodeMetrics>();
        services.AddMetrics(metrics =>
        {
            foreach (var meter in LocalMeters)
            {
                metrics.EnableMetrics(meter, instrumentName: null, listenerName: null, MeterScope.Local);
            }

            metrics.EnableMetrics(RuntimeMeter, instrumentName: null, listenerName: null, MeterScope.Global);
        });
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddPrometheusExporter(ConfigureExporter));
        return services;
    }

    /// <summary>Serves the Prometheus text format at <c>/metrics</c>; scrapes are left out of the request metrics.</summary>
    public static IEndpointConventionBuilder MapNodeMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint("/metrics").DisableHttpMetrics();

    private static void ConfigureExporter(PrometheusAspNetCoreOptions options)
    {
        // A scrape reports the counts as they are (Prometheus scrapes every few seconds at most;
        // the exporter's default 300 ms cache would hand a second scraper stale numbers).
        options.ScrapeResponseCacheDurationMilliseconds = 0;

        // Each family's name already says whose it is (xbus_, kestrel_, http_server_, dotnet_), so
        // an otel_scope_name label on every series would add nothing but a label dashboards must
        // ignore; target_info would only say "unknown_service": Prometheus's job and instance
        // labels name the node.
        options.ScopeInfoEnabled = false;
        options.TargetInfoEnabled = false;
    }
}
