// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.MessageLog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Hosting;

/// <summary>
/// The node's metrics as a scraper sees them: <see cref="NodeMetrics"/> behind
/// <see cref="NodeMetricsExtensions.AddNodeMetrics"/> on a real listener, read back from the
/// Prometheus text.
/// </summary>
public sealed class NodeMetricsTests
{
    private const string Service = "VN/GOV/000.00.00.H01/registry/getCitizen/v1";

    private TempLogFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task Record_CountsEachOutcome_AndTimesIntoTheDocumentedBuckets()
    {
        await using var node = await MetricsHost.StartAsync(_folder.PathOf("a.db"));
        node.Metrics.Record("provider", Service, "OK", TimeSpan.FromMilliseconds(2));
        node.Metrics.Record("provider", Service, "OK", TimeSpan.FromMilliseconds(300));
        node.Metrics.Record("provider", Service, "Server.ServiceFailed", TimeSpan.FromSeconds(4));

        var text = await node.ScrapeAsync();
        var metrics = PrometheusText.Parse(text);

        Assert.That(metrics.Types["xbus_calls_total"], Is.EqualTo("counter"));
        Assert.That(metrics.Types["xbus_call_duration_seconds"], Is.EqualTo("histogram"));
        Assert.That(metrics.Types["xbus_message_log_queue_depth"], Is.EqualTo("gauge"));
        Assert.That(metrics.Value("xbus_calls_total", ("side", "provider"), ("service", Service), ("outcome", "OK")), Is.EqualTo(2));
        Assert.That(metrics.Value("xbus_calls_total", ("side", "provider"), ("service", Service), ("outcome", "Server.ServiceFailed")), Is.EqualTo(1));
        Assert.That(metrics.Find("xbus_calls_total").Select(s => s.Labels.Keys.Order(StringComparer.Ordinal)),
            Has.All.EqualTo(new[] { "outcome", "service", "side" }), "labels are side, service and outcome and nothing else");

        // Cumulative buckets, as the node has always exported them (1 ms to 10 s).
        Assert.That(metrics.Value("xbus_call_duration_seconds_bucket", ("side", "provider"), ("le", "0.001")), Is.Zero);
        Assert.That(metrics.Value("xbus_call_duration_seconds_bucket", ("side", "provider"), ("le", "0.0025")), Is.EqualTo(1));
        Assert.That(metrics.Value("xbus_call_duration_seconds_bucket", ("side", "provider"), ("le", "0.5")), Is.EqualTo(2));
        Assert.That(metrics.Value("xbus_call_duration_seconds_bucket", ("side", "provider"), ("le", "5")), Is.EqualTo(3));
        Assert.That(metrics.Value("xbus_call_duration_seconds_bucket", ("side", "provider"), ("le", "+Inf")), Is.EqualTo(3));
        Assert.That(metrics.Value("xbus_call_duration_seconds_count", ("side", "provider")), Is.EqualTo(3));
        Assert.That(metrics.Value("xbus_call_duration_seconds_sum", ("side", "provider")), Is.EqualTo(4.302).Within(1e-9));
        Assert.That(metrics.Value("xbus_message_log_queue_depth"), Is.Zero);
        Assert.That(text, Does.Contain("# TYPE xbus_calls_total counter"));
    }

    [Test]
    public async Task TwoNodesInOneProcess_EachReportsOnlyItsOwnCalls()
    {
        await using var client = await MetricsHost.StartAsync(_folder.PathOf("client.db"));
        await using var provider = await MetricsHost.StartAsync(_folder.PathOf("provider.db"));
        client.Metrics.Record("client", Service, "OK", TimeSpan.FromMilliseconds(5));
        client.Metrics.Record("client", Service, "OK", TimeSpan.FromMilliseconds(5));
        provider.Metrics.Record("provider", Service, "OK", TimeSpan.FromMilliseconds(5));

        var clientMetrics = PrometheusText.Parse(await client.ScrapeAsync());
        var providerMetrics = PrometheusText.Parse(await provider.ScrapeAsync());

        Assert.That(clientMetrics.Value("xbus_calls_total", ("side", "client"), ("outcome", "OK")), Is.EqualTo(2));
        Assert.That(clientMetrics.Find("xbus_calls_total", ("side", "provider")), Is.Empty);
        Assert.That(clientMetrics.Value("xbus_call_duration_seconds_count", ("side", "client")), Is.EqualTo(2));
        Assert.That(providerMetrics.Value("xbus_calls_total", ("side", "provider"), ("outcome", "OK")), Is.EqualTo(1));
        Assert.That(providerMetrics.Find("xbus_calls_total", ("side", "client")), Is.Empty);
        Assert.That(providerMetrics.Find("xbus_call_duration_seconds_count", ("side", "client")), Is.Empty);
    }

    /// <summary>A listener with the node's metrics pipeline, as the node's metrics host has it.</summary>
    private sealed class MetricsHost : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly SqliteMessageLog _log;
        private readonly HttpClient _http = new();

        private MetricsHost(WebApplication app, SqliteMessageLog log)
        {
            _app = app;
            _log = log;
        }

        public NodeMetrics Metrics => _app.Services.GetRequiredService<NodeMetrics>();

        public static async Task<MetricsHost> StartAsync(string logPath)
        {
            var log = Records.Open(logPath);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            builder.Services.AddSingleton(log).AddNodeMetrics();
            var app = builder.Build();
            app.MapNodeMetrics();
            await app.StartAsync();
            return new MetricsHost(app, log);
        }

        public Task<string> ScrapeAsync()
        {
            var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return _http.GetStringAsync(new Uri(address + "/metrics"));
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
            await _log.DisposeAsync();
        }
    }
}
