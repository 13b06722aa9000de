// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using Microsoft.AspNetCore.Html;

namespace ExchangeBus.WebConsole.Localization;

/// <summary>Times as the console shows them: in Viet Nam's time zone, with UTC in the title (shown on hover) and the machine-readable instant.</summary>
public static class ConsoleTime
{
    /// <summary>Asia/Ho_Chi_Minh from the system's zone data; Viet Nam has kept UTC+7 without daylight saving since 1975, so that is the fallback.</summary>
    public static readonly TimeZoneInfo Zone = FindZone();

    public static DateTimeOffset Local(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone);

    public static IHtmlContent Html(DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        var local = Local(instant);
        var builder = new HtmlContentBuilder();
        builder.AppendHtml("<time datetime=\"");
        builder.Append(utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        builder.AppendHtml("\" title=\"");
        builder.Append(utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC");
        builder.AppendHtml("\">");
        builder.Append(local.ToString("dd/MM/yyyy HH:mm", CultureInfo.InvariantCulture));
        builder.AppendHtml("</time>");
        return builder;
    }

    private static TimeZoneInfo FindZone()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("Asia/Ho_Chi_Minh");
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return TimeZoneInfo.CreateCustomTimeZone("Asia/Ho_Chi_Minh", TimeSpan.FromHours(7), "Indochina Time", "ICT");
        }
    }
}
