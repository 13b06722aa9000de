// SPDX-License-Identifier: Apache-2.0
using System.Globalization;

namespace ExchangeBus.Grpc;

/// <summary>
/// Durations in the settings files and environment are numbers in a named unit
/// (<c>shutdownTimeoutSeconds</c>, <c>files.stalePartHours</c>; docs/deploy.md): the options
/// records keep a <see cref="TimeSpan"/> and bind the number through a companion property that
/// converts with these. A bare number in .NET's own TimeSpan text means days, which is the
/// mistake the unit in the key's name avoids.
/// </summary>
public static class DurationSetting
{
    // Past this a TimeSpan overflows; every setting's range is far below it.
    private const double MaxSeconds = 9e11;

    /// <summary>
    /// A number of seconds as a duration. NaN, infinities and amounts a TimeSpan cannot hold become
    /// <see cref="TimeSpan.MinValue"/>, which every range check refuses: the problem is then
    /// reported with its key by the options' validator instead of thrown out of the binder.
    /// </summary>
    public static TimeSpan FromSeconds(double seconds) =>
        double.IsFinite(seconds) && Math.Abs(seconds) < MaxSeconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MinValue;

    /// <summary>Adds "<paramref name="key"/> must be between …" when <paramref name="value"/> is outside [min, max] seconds.</summary>
    public static void CheckSeconds(ICollection<string> problems, string key, TimeSpan value, double minSeconds, double maxSeconds)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (value < TimeSpan.FromSeconds(minSeconds) || value > TimeSpan.FromSeconds(maxSeconds))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{key} must be between {minSeconds} and {maxSeconds} seconds"));
        }
    }
}
