// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Registry.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// For a service manager, a load balancer or a gRPC health client: ready while the configuration
/// nodes download is in date (signed, stored, not expired), and only once the listeners are bound
/// and <c>endpoints.json</c> is written, so a script that waits for readiness can go straight on
/// to operators' commands, which find the registry through that file.
/// </summary>
internal sealed class RegistryReadiness(
    IOptions<RegistryServerOptions> options, RegistryStore store, RegistryListeners listeners, ILogger<RegistryServer> logger) : IHealthCheck, IHostedLifecycleService
{
    public const string Name = "global-configuration";
    public const string NotReady = "no global configuration in date";

    private volatile bool _started;

    /// <summary>"https://host:port" of the gRPC listener, as nodes reach it.</summary>
    public string? GrpcAddress { get; private set; }

    /// <summary>"http://host:port" of the time-stamping and OCSP listener.</summary>
    public string? HttpAddress { get; private set; }

    /// <summary>"https://host:port" of the web console, or null when it is off.</summary>
    public string? ConsoleAddress { get; private set; }

    public bool IsReady => _started && store.HasConfigurationInDate();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(NotReady));

    /// <summary>
    /// Before any listener or loop starts: records the key set's OCSP, TSA and administrator
    /// certificates the registry does not know yet (a registry.db from before they were recorded,
    /// a certificate renewed in keys/), so the first configuration and the first management call
    /// see their real status.
    /// </summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (store.RecordKeySetCertificates() is var recorded and > 0)
        {
            RegistryLog.RecordedKeySetCertificates(logger, recorded);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After every listener is bound: publishes where the registry is, then says it is ready.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        GrpcAddress = o.PublicGrpcAddress ?? $"https://{Host(listeners.GrpcEndpoint)}";
        HttpAddress = o.PublicHttpAddress ?? $"http://{Host(listeners.HttpEndpoint)}";
        store.SetPublicAddresses(GrpcAddress, HttpAddress);
        var endpoints = Path.Combine(o.DataDirectory, RegistryEndpoints.FileName);
        File.WriteAllText(endpoints + ".tmp", JsonSerializer.Serialize(new RegistryEndpoints(GrpcAddress, HttpAddress, Environment.ProcessId)));
        File.Move(endpoints + ".tmp", endpoints, overwrite: true);
        _started = true;
        RegistryLog.Serving(logger, store.Instance, GrpcAddress, HttpAddress);
        if (listeners.ConsoleEndpoint is { } console)
        {
            ConsoleAddress = $"https://{Host(console)}";
            RegistryLog.ServingConsole(logger, ConsoleAddress);
        }
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string Host(System.Net.IPEndPoint endpoint) =>
        (endpoint.Address.Equals(System.Net.IPAddress.Any) || endpoint.Address.Equals(System.Net.IPAddress.IPv6Any) ? "127.0.0.1"
        : endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]"
        : endpoint.Address.ToString()) + $":{endpoint.Port}";
}
