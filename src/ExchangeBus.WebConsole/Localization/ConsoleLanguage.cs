// SPDX-License-Identifier: Apache-2.0

namespace ExchangeBus.WebConsole.Localization;

/// <summary>The console's two languages; each person picks one, kept in a cookie. Vietnamese unless they chose English.</summary>
public enum ConsoleLanguage
{
    Vietnamese,
    English,
}

public static class ConsoleLanguages
{
    /// <summary>The language cookie: only the choice, nothing else; <c>__Host-</c> so only this origin over HTTPS sets it.</summary>
    public const string CookieName = "__Host-xbus-lang";

    public static ConsoleLanguage Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Cookies.TryGetValue(CookieName, out var value) && Parse(value) is { } language ? language : ConsoleLanguage.Vietnamese;
    }

    public static ConsoleLanguage? Parse(string? code) => code switch
    {
        "vi" => ConsoleLanguage.Vietnamese,
        "en" => ConsoleLanguage.English,
        _ => null,
    };

    /// <summary>The BCP 47 tag for <c>&lt;html lang&gt;</c> and the cookie.</summary>
    public static string Code(ConsoleLanguage language) => language == ConsoleLanguage.English ? "en" : "vi";

    /// <summary>Picks the table of <paramref name="language"/> from a component's pair of string tables.</summary>
    public static T Pick<T>(ConsoleLanguage language, T vietnamese, T english) => language == ConsoleLanguage.English ? english : vietnamese;
}
