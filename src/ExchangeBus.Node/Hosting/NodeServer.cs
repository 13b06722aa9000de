// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// A running node: one host (<see cref="NodeServiceCollectionExtensions.AddExchangeBusNode(IServiceCollection)"/>,
/// <see cref="NodeEndpointRouteBuilderExtensions.MapExchangeBusNode"/>) started in code, for the
/// command line and the tests. Its parts are the host's singletons; the properties are shortcuts.
/// </summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly NodeListeners _listeners;
    private int _disposed;

    private NodeServer(WebApplication app)
    {
        _app = app;
        _listeners = app.Services.GetRequiredService<NodeListeners>();
        PeerAddress = Address(_listeners.PeerEndpoint);
        LocalTlsAddress = _listeners.LocalTlsEndpoint is { } tls ? $"https://{Address(tls)}" : null;
        MetricsAddress = $"http://{Address(_listeners.MetricsEndpoint)}";
        ConsoleAddress = _listeners.ConsoleEndpoint is { } console ? $"https://{Address(console)}" : null;
    }

    /// <summary>The host's services: every part of the node.</summary>
    public IServiceProvider Services => _app.Services;

    public NodeId Node => Services.GetRequiredService<NodeId>();

    public NodeSettingsSource Settings => Services.GetRequiredService<NodeSettingsSource>();

    public NodeKeys Keys => Services.GetRequiredService<NodeKeys>();

    public GlobalConfigurationProvider Configuration => Services.GetRequiredService<GlobalConfigurationProvider>();

    public OwnCertificateStatus OwnStatus => Services.GetRequiredService<OwnCertificateStatus>();

    public PeerChannels Peers => Services.GetRequiredService<PeerChannels>();

    public SqliteMessageLog Log => Services.GetRequiredService<SqliteMessageLog>();

    public TreeHeadStamper Stamper => Services.GetRequiredService<TreeHeadStamper>();

    /// <summary>File sync: its store and database.</summary>
    public FileSync Files => Services.GetRequiredService<FileSync>();

    public string PeerAddress { get; }

    /// <summary>http://host:port of the local plaintext (development) gRPC listener.</summary>
    /// <exception cref="InvalidOperationException">That listener is off.</exception>
    public string LocalAddress => _listeners.LocalEndpoint is { } local
        ? $"http://{Address(local)}"
        : throw new InvalidOperationException("The plaintext local listener is off.");

    /// <summary>https://host:port of the local TLS listener, or null when it is off.</summary>
    public string? LocalTlsAddress { get; }

    /// <summary>The certificate the local TLS listener presents (systems pin it), or null.</summary>
    public X509Certificate2? LocalTlsCertificate => _listeners.LocalTlsCertificate;

    public string MetricsAddress { get; }

    /// <summary>https://host:port of the web console, or null when it is off.</summary>
    public string? ConsoleAddress { get; }

    /// <summary>
    /// Builds the node's host and starts it: the loops first (the node waits once for a
    /// configuration and an OCSP answer if it has none), then the listeners.
    /// </summary>
    /// <exception cref="NodeConfigurationException">The options or the node's files are not fit to start (<see cref="NodeErrors.SettingsInvalid"/>).</exception>
    public static async Task<NodeServer> StartAsync(NodeServerOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(BusHost.Options());
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        // Per-request hosting logs are off anyway (Warning and up); with this category off too,
        // ASP.NET Core starts no logging scope and no Activity per request (HostingApplicationDiagnostics;
        // docs/performance.md, the profile of both nodes).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        builder.Services.AddExchangeBusNode(options);
        WebApplication? app = null;
        try
        {
            // Building reads the options (the shutdown timeout), so a validation failure can come from here too.
            app = builder.Build();
            app.MapExchangeBusNode();
            await app.StartAsync().ConfigureAwait(false);
            return new NodeServer(app);
        }
        catch (Exception ex)
        {
            if (app is not null)
            {
                await BusHost.StopAsync(app).ConfigureAwait(false);
            }

            if (ex is OptionsValidationException invalid)
            {
                throw new NodeConfigurationException(NodeErrors.SettingsInvalid, string.Join(" ", invalid.Failures));
            }

            throw;
        }
    }

    /// <summary>
    /// Stops taking calls, lets in-flight ones finish (up to <see cref="NodeServerOptions.ShutdownTimeout"/>),
    /// stops the loops, then flushes and closes the message log with the rest of the node.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // Idempotent: a supervisor and a test harness may both stop the same node.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await BusHost.StopAsync(_app).ConfigureAwait(false);
        }
    }

    private static string Address(IPEndPoint endpoint) => endpoint.ToString();
}
