// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Tests.Pki;

/// <summary>A clock that only moves when a test says so (Microsoft.Extensions.TimeProvider.Testing is not available here).</summary>
internal sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    /// <summary>A fixed, whole-second instant, so certificate times compare exactly.</summary>
    public static DateTimeOffset DefaultStart { get; } = new(2030, 1, 15, 12, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider()
        : this(DefaultStart)
    {
    }

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;

    public void SetUtcNow(DateTimeOffset value) => now = value;
}
