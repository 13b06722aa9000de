// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.GlobalConf;

/// <summary>Bounds for <see cref="GlobalConfigurationVerifier"/>.</summary>
public sealed record GlobalConfigurationVerifierOptions
{
    /// <summary>64 MiB: some thirty times a configuration of 10,000 members and 100,000 subsystems.</summary>
    public const int DefaultMaxConfigurationBytes = 64 * 1024 * 1024;

    /// <summary>The largest serialized configuration accepted; anything larger is refused unparsed.</summary>
    public int MaxConfigurationBytes { get; init; } = DefaultMaxConfigurationBytes;

    /// <summary>
    /// How far in the future <c>created_at</c> may lie, for clock differences between the
    /// registry and the node. The same five minutes certificates are backdated by.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);
}
