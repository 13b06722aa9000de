// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.Metrics;

namespace ExchangeBus.Registry.Management;

/// <summary>
/// The registry's own instruments. Refusals of callers without a client certificate are counted
/// here rather than kept in the hash-chained admin audit log: anyone who can reach the port can
/// make them, as many as they like, and each kept one would cost disk. The meter comes from the
/// host's <see cref="IMeterFactory"/> (dotnet-counters, an OpenTelemetry listener). The only
/// label is the stable error code, a bounded set.
/// </summary>
public sealed class RegistryMetrics
{
    public const string MeterName = "ExchangeBus.Registry";

    private readonly Counter<long> _anonymousRefused;

    public RegistryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _anonymousRefused = meterFactory.Create(MeterName).CreateCounter<long>(
            "xbus.registry.anonymous.refused", unit: "{call}",
            "Calls from callers without a client certificate refused, by error code (Registry.RateLimited for those the rate limiter stopped).");
    }

    public void AnonymousRefused(string errorCode) => _anonymousRefused.Add(1, new KeyValuePair<string, object?>("code", errorCode));
}
