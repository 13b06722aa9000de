// SPDX-License-Identifier: Apache-2.0
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>A health check whose result the test sets.</summary>
internal sealed class HealthSwitch : IHealthCheck
{
    private volatile bool _healthy = true;

    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("switched off by the test"));
}
