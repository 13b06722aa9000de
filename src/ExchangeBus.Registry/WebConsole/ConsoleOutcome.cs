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

    /// <inheritdoc cref="ConsolePage{T}.Read"/>
    public static ConsolePage<T> Page<T>(int number, Func<int, int, StoreSlice<T>> read, int size = ConsolePage<T>.DefaultSize) =>
        ConsolePage<T>.Read(number, read, size);
}
