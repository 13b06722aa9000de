// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.TrustServices;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// The registry's host settings. <c>xbus registry serve</c> binds them from its settings file,
/// <c>XBUS_</c> environment variables and flags (docs/deploy.md, "Settings"); the keys are the
/// property names, except where an alias (a companion property, some in a named unit) gives the documented key.
/// <see cref="RegistryServerOptionsValidator"/> checks them.
/// </summary>
public sealed record RegistryServerOptions
{
    public required string DataDirectory { get; init; }

    /// <summary><see cref="DataDirectory"/> under its settings key, <c>data</c>.</summary>
    // An alias property, not [ConfigurationKeyName]: the binder's ErrorOnUnknownConfiguration
    // checks keys against the properties' own names and would refuse the attribute's name.
    public string Data { get => DataDirectory; init => DataDirectory = value; }

    /// <summary>gRPC over TLS: configuration, registration, management. "host:port"; port 0 picks one.</summary>
    public string GrpcListen { get; init; } = "127.0.0.1:4400";

    /// <summary><see cref="GrpcListen"/> under its settings key, <c>listen</c>.</summary>
    public string Listen { get => GrpcListen; init => GrpcListen = value; }

    /// <summary>Plain HTTP: RFC 3161 time-stamping at /tsa and RFC 6960 OCSP at /ocsp.</summary>
    public string HttpListen { get; init; } = "127.0.0.1:4401";

    /// <summary>How nodes reach the gRPC listener, if not the bound address (a proxy, a DNS name).</summary>
    public string? PublicGrpcAddress { get; init; }

    public string? PublicHttpAddress { get; init; }

    /// <summary>How often the registry checks whether the configuration needs re-publishing.</summary>
    public TimeSpan RefreshCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><see cref="RefreshCheckInterval"/> as the settings file gives it.</summary>
    public double RefreshCheckSeconds { get => RefreshCheckInterval.TotalSeconds; init => RefreshCheckInterval = DurationSetting.FromSeconds(value); }

    /// <summary>On shutdown (SIGTERM), how long the listeners wait for the calls in flight to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><see cref="ShutdownTimeout"/> as the settings file gives it.</summary>
    public double ShutdownTimeoutSeconds { get => ShutdownTimeout.TotalSeconds; init => ShutdownTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>
    /// What one connection may take: handshake, idle, header and body-rate timeouts, calls at
    /// once. The gRPC listener asks for no client certificate (nodes register through it), so
    /// anyone who can connect could otherwise hold a connection open with pings alone.
    /// </summary>
    public ConnectionLimits Limits { get; init; } = new();
}

/// <summary>A running registry: Kestrel with the gRPC listener (TLS) and the HTTP listener.</summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private const string NotReady = "no global configuration in date";
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _refresh;

    private readonly IDisposable[] _trustServices;
    private int _disposed;

    private RegistryServer(WebApplication app, RegistryStore store, RegistryKeys keys, IDisposable[] trustServices, string grpcAddress, string httpAddress, TimeSpan refreshInterval, TimeProvider timeProvider)
    {
        _app = app;
        _trustServices = trustServices;
        Store = store;
        Keys = keys;
        GrpcAddress = grpcAddress;
        HttpAddress = httpAddress;
        _refresh = RefreshLoopAsync(refreshInterval, timeProvider);
    }

    public RegistryStore Store { get; }

    public RegistryKeys Keys { get; }

    /// <summary>"https://host:port" of the gRPC listener.</summary>
    public string GrpcAddress { get; }

    /// <summary>"http://host:port" of the time-stamping and OCSP listener.</summary>
    public string HttpAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<RegistryServer> StartAsync(RegistryServerOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = timeProvider ?? TimeProvider.System;
        var keys = RegistryKeys.Load(Path.Combine(options.DataDirectory, RegistryKeys.Folder), time);
        var database = RegistryDatabase.Open(options.DataDirectory);
        var store = new RegistryStore(database, keys, time);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        var grpcEndpoint = ParseEndpoint(options.GrpcListen);
        var httpEndpoint = ParseEndpoint(options.HttpListen);
        var trust = new CertificateTrust([keys.RootCertificate], time);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            options.Limits.ApplyTo(kestrel);
            kestrel.Listen(grpcEndpoint, listen => listen.UseBusGrpc(new ServerTlsOptions
            {
                ServerCertificate = keys.Tls,
                ClientTrust = trust,
                RequireClientCertificate = false,
                HandshakeTimeout = options.Limits.HandshakeTimeout,
            }, options.Limits));
            // openssl ts/ocsp and curl speak HTTP/1.1 over plain TCP; HTTP/2 without TLS would need prior knowledge.
            kestrel.Listen(httpEndpoint, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(keys);
        builder.Services.AddSingleton(_ => new CertificateChainValidator([keys.RootCertificate], time));
        builder.Services.AddSingleton<RegistryCalls>();

        // For a service manager, a load balancer or a gRPC health client: ready while the
        // configuration nodes download is in date (signed, stored, not expired), and only once the
        // endpoints file is written, so a script that waits for readiness can go straight on.
        var started = new StrongBox<bool>();
        bool Ready() => Volatile.Read(ref started.Value) && store.HasConfigurationInDate();
        builder.Services.AddBusGrpc().AddCheck("global-configuration", () =>
            Ready() ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(NotReady));
        var app = builder.Build();
        app.MapBusGrpc(reflection: true);
        app.MapGrpcService<RegistryPublicService>();
        app.MapGrpcService<RegistryManagementService>();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        string K(string file) => Path.Combine(options.DataDirectory, RegistryKeys.Folder, file);
        var tsa = TimeStampAuthority.Load(K(DevelopmentPki.TimeStampingCertificateFile), K(DevelopmentPki.TimeStampingKeyFile), time, loggers.CreateLogger<TimeStampAuthority>());
        var ocsp = OcspResponder.Load(K(DevelopmentPki.RootCertificateFile), K(DevelopmentPki.OcspCertificateFile), K(DevelopmentPki.OcspKeyFile), store, time, loggers.CreateLogger<OcspResponder>());
        app.MapTrustServices(tsa, ocsp);

        app.MapGet("/health/live", () => Results.Text("live"));
        app.MapGet("/health/ready", () => Ready()
            ? Results.Text("ready")
            : Results.Text(NotReady, statusCode: StatusCodes.Status503ServiceUnavailable));
        await app.StartAsync().ConfigureAwait(false);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).ToArray();
        var grpcAddress = options.PublicGrpcAddress ?? $"https://{Host(grpcEndpoint)}:{bound.Single(u => u.Scheme == "https").Port}";
        var httpAddress = options.PublicHttpAddress ?? $"http://{Host(httpEndpoint)}:{bound.Single(u => u.Scheme == "http").Port}";
        store.SetPublicAddresses(grpcAddress, httpAddress);

        // Operators' commands find the registry through this file; ready only once it is written,
        // so a script that waits for /health/ready can go straight on to them.
        var endpoints = Path.Combine(options.DataDirectory, RegistryEndpoints.FileName);
        File.WriteAllText(endpoints + ".tmp", JsonSerializer.Serialize(new RegistryEndpoints(grpcAddress, httpAddress, Environment.ProcessId)));
        File.Move(endpoints + ".tmp", endpoints, overwrite: true);
        Volatile.Write(ref started.Value, true);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RegistryServer>();
        RegistryLog.Serving(logger, store.Instance, grpcAddress, httpAddress);
        return new RegistryServer(app, store, keys, [tsa, ocsp], grpcAddress, httpAddress, options.RefreshCheckInterval, time);
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Idempotent: a supervisor and a test harness may both stop the same server.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _refresh.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        foreach (var service in _trustServices)
        {
            service.Dispose();
        }

        Keys.Dispose();
        _stopping.Dispose();
    }

    private async Task RefreshLoopAsync(TimeSpan interval, TimeProvider timeProvider)
    {
        var logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RegistryServer>();
        using var timer = new PeriodicTimer(interval, timeProvider);
        while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
        {
            try
            {
                if (Store.RefreshConfigurationIfDue() is { } version)
                {
                    RegistryLog.Published(logger, version);
                }
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                // The next tick tries again; nodes keep the version they have until it expires.
                RegistryLog.RefreshFailed(logger, ex);
            }
        }
    }

    private static IPEndPoint ParseEndpoint(string listen) =>
        IPEndPoint.TryParse(listen, out var endpoint)
            ? endpoint
            : throw new ArgumentException($"'{listen}' is not an IP address and port (e.g. 127.0.0.1:4400).", nameof(listen));

    private static string Host(IPEndPoint endpoint) =>
        endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1"
        : endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]"
        : endpoint.Address.ToString();
}

/// <summary>Where a running registry listens; written to its data folder when it starts.</summary>
public sealed record RegistryEndpoints(string Grpc, string Http, int ProcessId)
{
    public const string FileName = "endpoints.json";
}
