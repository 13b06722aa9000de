// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// A running registry: one host (<see cref="RegistryServiceCollectionExtensions.AddExchangeBusRegistry(IServiceCollection)"/>,
/// <see cref="RegistryEndpointRouteBuilderExtensions.MapExchangeBusRegistry"/>) started in code,
/// for the command line and the tests.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private RegistryServer(WebApplication app)
    {
        _app = app;
        var readiness = app.Services.GetRequiredService<RegistryReadiness>();
        GrpcAddress = readiness.GrpcAddress!;
        HttpAddress = readiness.HttpAddress!;
        ConsoleAddress = readiness.ConsoleAddress;
    }

    public RegistryStore Store => Services.GetRequiredService<RegistryStore>();

    public RegistryKeys Keys => Services.GetRequiredService<RegistryKeys>();

    /// <summary>"https://host:port" of the gRPC listener.</summary>
    public string GrpcAddress { get; }

    /// <summary>"http://host:port" of the time-stamping and OCSP listener.</summary>
    public string HttpAddress { get; }

    /// <summary>"https://host:port" of the web console, or null when it is off.</summary>
    public string? ConsoleAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<RegistryServer> StartAsync(RegistryServerOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(BusHost.Options());
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        builder.Services.AddExchangeBusRegistry(options);
        WebApplication? app = null;
        try
        {
            // Building reads the options (the shutdown timeout), so a validation failure can come from here too.
            app = builder.Build();
            app.MapExchangeBusRegistry();
            await app.StartAsync().ConfigureAwait(false);
            return new RegistryServer(app);
        }
        catch
        {
            if (app is not null)
            {
                await BusHost.StopAsync(app).ConfigureAwait(false);
            }

            throw;
        }
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Idempotent: a supervisor and a test harness may both stop the same server.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await BusHost.StopAsync(_app).ConfigureAwait(false);
        }
    }
}
