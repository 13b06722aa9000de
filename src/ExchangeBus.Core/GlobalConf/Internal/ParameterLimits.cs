// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.GlobalConf.Internal;

/// <summary>
/// Sane ranges for the configuration parameters, in seconds (the batch in records). They catch a
/// zero left unset or a unit mistake (milliseconds typed as seconds), either of which would stop
/// every node at once, and otherwise stay wide: a node that refused what the registry accepted
/// would fail closed across the whole instance, so these include everything the registry's own
/// parameter check (ConfigurationParameters.Validate) lets through. X-Road defaults in comments.
/// </summary>
internal static class ParameterLimits
{
    private const uint Hour = 60 * 60;
    private const uint Day = 24 * Hour;

    /// <summary>X-Road: 60 s.</summary>
    public static readonly (uint Min, uint Max) RefreshInterval = (1, Hour);

    /// <summary>X-Road: 600 s. At most a week, so a stolen old configuration is soon useless.</summary>
    public static readonly (uint Min, uint Max) Validity = (2, 7 * Day);

    /// <summary>X-Road: 1200 s.</summary>
    public static readonly (uint Min, uint Max) OcspRefreshInterval = (1, Day);

    /// <summary>X-Road: 3600 s.</summary>
    public static readonly (uint Min, uint Max) OcspFreshness = (1, 7 * Day);

    /// <summary>X-Road: 60 s.</summary>
    public static readonly (uint Min, uint Max) TimeStampingInterval = (1, Day);

    /// <summary>X-Road: 10,000 records.</summary>
    public static readonly (uint Min, uint Max) TimeStampingMaxBatch = (1, 1_000_000);

    /// <summary>X-Road: 14,400 s (4 h).</summary>
    public static readonly (uint Min, uint Max) AcceptableTimeStampFailure = (1, 7 * Day);
}
