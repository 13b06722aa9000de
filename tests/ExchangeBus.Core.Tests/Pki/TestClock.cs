// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Tests.Pki;

/// <summary>
/// Where the tests' <c>FakeTimeProvider</c> (Microsoft.Extensions.TimeProvider.Testing) starts:
/// a fixed, whole-second instant, so certificate times compare exactly. Its own default,
/// 2000-01-01, is not used.
/// </summary>
internal static class TestClock
{
    public static DateTimeOffset Start { get; } = new(2030, 1, 15, 12, 0, 0, TimeSpan.Zero);
}
