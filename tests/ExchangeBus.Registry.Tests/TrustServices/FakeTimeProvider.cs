// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>A clock that only moves when a test says so.</summary>
internal sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    /// <summary>A fixed instant with milliseconds, so genTime precision shows.</summary>
    public static DateTimeOffset DefaultStart { get; } = new(2030, 1, 15, 12, 0, 0, 250, TimeSpan.Zero);

    public FakeTimeProvider()
        : this(DefaultStart)
    {
    }

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}
