// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.WebConsole;

namespace ExchangeBus.Registry.WebConsole;

/// <summary>
/// What the registry's pages add to the consoles' shared outcome
/// (<see cref="ExchangeBus.WebConsole.Hosting.OutcomeQuery"/>): a code of their own, and lists
/// read from the store a slice at a time.
/// </summary>
public static class ConsoleOutcome
{
    /// <summary>The page's own code for a required reason left empty (the store's codes come as they are).</summary>
    public const string ReasonRequired = "Console.ReasonRequired";

    /// <summary>
    /// Page <paramref name="number"/> (from 1, clamped) of a list the store reads a slice at a
    /// time: the slice asked for, and again the last page's when the number is past the end.
    /// </summary>
    public static ConsolePage<T> Page<T>(int number, Func<int, int, StoreSlice<T>> read, int size = ConsolePage<T>.DefaultSize)
    {
        ArgumentNullException.ThrowIfNull(read);
        number = Math.Clamp(number, 1, 1_000_000);
        var slice = read((number - 1) * size, size);
        var pages = Math.Max(1, (slice.Total + size - 1) / size);
        if (number > pages)
        {
            number = pages;
            slice = read((number - 1) * size, size);
        }

        return new ConsolePage<T>(slice.Items, number, size, slice.Total);
    }
}
