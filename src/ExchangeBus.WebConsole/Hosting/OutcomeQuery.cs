// SPDX-License-Identifier: Apache-2.0
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace ExchangeBus.WebConsole.Hosting;

/// <summary>
/// The outcome of an action page in the query string (post, redirect, get), for the registry's
/// and the node's consoles alike: the action page redirects <see cref="Back"/> with a code or a
/// "done" word, and the page it returns to reads them back with <see cref="Error"/> and
/// <see cref="Done"/>. The query string is anyone's to write, so a page shows only what is
/// shaped like an error code or a "done" word: a crafted link cannot make a console page say
/// what it likes. Free text goes through TempData instead.
/// </summary>
public static partial class OutcomeQuery
{
    [GeneratedRegex("^[A-Za-z]+\\.[A-Za-z]+$")]
    private static partial Regex CodeShape();

    [GeneratedRegex("^[a-z][a-zA-Z]*$")]
    private static partial Regex DoneShape();

    /// <summary>
    /// A redirect to <paramref name="path"/> (a console path, so local) with
    /// <paramref name="values"/> in its query string; null values are left out.
    /// </summary>
    public static LocalRedirectResult Back(string path, IReadOnlyDictionary<string, string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new LocalRedirectResult(QueryHelpers.AddQueryString(path, values.Where(p => p.Value is not null)));
    }

    /// <summary>An error code from the query string, or null when it is not shaped like one.</summary>
    public static string? Error(string? error) => error is { Length: <= 64 } && CodeShape().IsMatch(error) ? error : null;

    /// <summary>A "done" word from the query string, or null when it is not shaped like one.</summary>
    public static string? Done(string? done) => done is { Length: <= 32 } && DoneShape().IsMatch(done) ? done : null;
}
