// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.GlobalConf;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// A node is ready while it holds a global configuration in date: without one every exchange is
/// refused (OutdatedGlobalConf). Behind <c>/health/ready</c> and <c>grpc.health.v1</c> on both
/// gRPC listeners, so a balancer or a gRPC health client sees the same answer.
/// </summary>
public sealed class ConfigurationInDate(GlobalConfigurationProvider configuration, TimeProvider time) : IHealthCheck
{
    public const string Name = "global-configuration";
    public const string NotReady = "no global configuration in date";

    public bool IsReady => configuration.Latest is { } view && !view.IsExpired(time.GetUtcNow());

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(NotReady));
}
