// SPDX-License-Identifier: Apache-2.0
using System.Text.RegularExpressions;

namespace ExchangeBus.WebConsole.Hosting;

/// <summary>
/// How a page reads back the outcome an action page redirected with (post, redirect, get). The
/// query string is anyone's to write, so a page shows only what is shaped like an error code or
/// a "done" word: a crafted link cannot make a console page say what it likes.
/// </summary>
public static partial class OutcomeQuery
{
    [GeneratedRegex("^[A-Za-z]+\\.[A-Za-z]+$")]
    private static partial Regex CodeShape();

    [GeneratedRegex("^[a-z][a-zA-Z]*$")]
    private static partial Regex DoneShape();

    /// <summary>An error code from the query string, or null when it is not shaped like one.</summary>
    public static string? Error(string? error) => error is { Length: <= 64 } && CodeShape().IsMatch(error) ? error : null;

    /// <summary>A "done" word from the query string, or null when it is not shaped like one.</summary>
    public static string? Done(string? done) => done is { Length: <= 32 } && DoneShape().IsMatch(done) ? done : null;
}
