// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;

namespace ExchangeBus.WebConsole;

/// <summary>One page of a list: every list in the console is shown a page at a time, never whole.</summary>
public sealed record ConsolePage<T>(IReadOnlyList<T> Items, int Number, int Size, int Total)
{
    public const int DefaultSize = 20;

    public int Pages => Math.Max(1, (Total + Size - 1) / Size);

    public bool HasPrevious => Number > 1;

    public bool HasNext => Number < Pages;

    /// <summary>Page <paramref name="number"/> (from 1; out-of-range numbers are clamped) of <paramref name="all"/>.</summary>
    public static ConsolePage<T> Of(IReadOnlyList<T> all, int number, int size = DefaultSize)
    {
        ArgumentNullException.ThrowIfNull(all);
        var pages = Math.Max(1, (all.Count + size - 1) / size);
        var page = Math.Clamp(number, 1, pages);
        return new ConsolePage<T>([.. all.Skip((page - 1) * size).Take(size)], page, size, all.Count);
    }

    /// <summary>
    /// Page <paramref name="number"/> (from 1, clamped) of a list a store reads a slice at a
    /// time: the slice asked for, and again the last page's when the number is past the end.
    /// </summary>
    public static ConsolePage<T> Read(int number, Func<int, int, StoreSlice<T>> read, int size = DefaultSize)
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
