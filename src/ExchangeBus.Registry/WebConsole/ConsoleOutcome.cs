// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.WebConsole;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace ExchangeBus.Registry.WebConsole;

/// <summary>
/// How an action page answers (post, redirect, get): back to the page it came from with what
/// was done or the error code; and how that page reads them back from its query string, which
/// is anyone's to write, so only something shaped like a code is shown.
/// </summary>
public static class ConsoleOutcome
{
    /// <summary>The page's own code for a required reason left empty (the store's codes come as they are).</summary>
    public const string ReasonRequired = "Console.ReasonRequired";

    /// <inheritdoc cref="OutcomeQuery.Error"/>
    public static string? Error(string? error) => OutcomeQuery.Error(error);

    /// <inheritdoc cref="OutcomeQuery.Done"/>
    public static string? Done(string? done) => OutcomeQuery.Done(done);

    /// <summary>A redirect to <paramref name="path"/> (a console path) with the values given; null values are left out.</summary>
    public static LocalRedirectResult Back(string path, IReadOnlyDictionary<string, string?> values) =>
        new(QueryHelpers.AddQueryString(path, values.Where(p => p.Value is not null)));

    /// <inheritdoc cref="ConsolePage{T}.Read"/>
    public static ConsolePage<T> Page<T>(int number, Func<int, int, StoreSlice<T>> read, int size = ConsolePage<T>.DefaultSize) =>
        ConsolePage<T>.Read(number, read, size);
}
