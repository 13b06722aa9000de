// SPDX-License-Identifier: Apache-2.0
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
}
