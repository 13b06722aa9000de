// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Storage;

/// <summary>
/// Bounds on what strangers can leave waiting: a registration not decided within
/// <paramref name="PendingMaxAge"/> expires, and at most <paramref name="MaxPending"/> wait at once
/// (the host's <c>pendingRegistrationMaxAgeSeconds</c> and <c>maxPendingRegistrations</c>).
/// </summary>
public sealed record RegistrationLimits(TimeSpan PendingMaxAge, int MaxPending)
{
    public static RegistrationLimits Default { get; } = new(TimeSpan.FromDays(7), 1000);
}
