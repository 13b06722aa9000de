// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>
/// Waits on a condition, never on a time: polled every 100 ms until it holds, failing with
/// <c>what</c> only once a deadline far beyond a loaded machine's pace has passed.
/// </summary>
public static class Eventually
{
    public static Task Until(Func<bool> condition, string what, TimeSpan patience) =>
        Until(() => Task.FromResult(condition()), what, patience);

    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!await condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), what);
            await Task.Delay(100);
        }
    }
}
