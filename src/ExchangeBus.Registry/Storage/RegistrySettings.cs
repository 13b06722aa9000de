// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.GlobalConf.V1;

namespace ExchangeBus.Registry.Storage;

/// <summary>The global configuration parameters, with X-Road's defaults.</summary>
public sealed record ConfigurationParameters
{
    public int RefreshIntervalSeconds { get; init; } = 60;

    public int ValiditySeconds { get; init; } = 600;

    public int OcspRefreshIntervalSeconds { get; init; } = 1200;

    public int OcspFreshnessSeconds { get; init; } = 3600;

    public int TimeStampingIntervalSeconds { get; init; } = 60;

    public int TimeStampingMaxBatch { get; init; } = 10_000;

    public int AcceptableTimeStampFailureSeconds { get; init; } = 14_400;

    public Parameters ToProto() => new()
    {
        RefreshIntervalSeconds = (uint)RefreshIntervalSeconds,
        ValiditySeconds = (uint)ValiditySeconds,
        OcspRefreshIntervalSeconds = (uint)OcspRefreshIntervalSeconds,
        OcspFreshnessSeconds = (uint)OcspFreshnessSeconds,
        TimeStampingIntervalSeconds = (uint)TimeStampingIntervalSeconds,
        TimeStampingMaxBatch = (uint)TimeStampingMaxBatch,
        AcceptableTimeStampFailureSeconds = (uint)AcceptableTimeStampFailureSeconds,
    };

    /// <summary>Every problem, not the first.</summary>
    public IEnumerable<string> Validate()
    {
        if (RefreshIntervalSeconds is < 1 or > 3600)
        {
            yield return "refresh interval must be 1–3600 s";
        }

        if (ValiditySeconds < RefreshIntervalSeconds * 2 || ValiditySeconds > 7 * 86_400)
        {
            yield return "validity must be at least twice the refresh interval and at most 7 days";
        }

        // The upper bounds are the ones nodes enforce (Core.GlobalConf ParameterLimits): a node
        // refusing what the registry publishes would stop the whole instance.
        if (OcspRefreshIntervalSeconds is < 1 or > 86_400)
        {
            yield return "OCSP refresh interval must be 1–86400 s";
        }

        if (OcspFreshnessSeconds < OcspRefreshIntervalSeconds || OcspFreshnessSeconds > 7 * 86_400)
        {
            yield return "OCSP freshness must be at least the OCSP refresh interval and at most 7 days";
        }

        if (AcceptableTimeStampFailureSeconds is < 1 or > 7 * 86_400)
        {
            yield return "acceptable time-stamping failure must be 1 s to 7 days";
        }

        if (TimeStampingIntervalSeconds is < 1 or > 86_400 || TimeStampingMaxBatch is < 1 or > 1_000_000)
        {
            yield return "time-stamping interval must be 1–86400 s and batch 1–1,000,000 records";
        }
    }
}
