// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>
/// Where the tests' <c>FakeTimeProvider</c> (Microsoft.Extensions.TimeProvider.Testing) starts:
/// a fixed instant with milliseconds, so genTime precision shows. Its own default, 2000-01-01,
/// is not used.
/// </summary>
internal static class TestClock
{
    public static DateTimeOffset Start { get; } = new(2030, 1, 15, 12, 0, 0, 250, TimeSpan.Zero);
}
