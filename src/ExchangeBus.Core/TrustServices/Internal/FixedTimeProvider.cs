// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.TrustServices.Internal;

/// <summary>A clock stopped at one instant: validates a TSA's chain at the token's time, not today's.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset instant) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => instant;
}
