// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole;

/// <summary>The console's static files, embedded in this assembly and served by the console itself.</summary>
public static class ConsoleAssets
{
    public const string StylesheetPath = "/assets/console.css";

    private static readonly Lazy<byte[]> Stylesheet = new(() =>
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("console.css")
            ?? throw new InvalidOperationException("console.css is not embedded in ExchangeBus.WebConsole.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    internal static IResult ServeStylesheet(HttpContext context)
    {
        // Pages are never cached; the stylesheet changes only with a release.
        context.Response.Headers.CacheControl = "private, max-age=3600";
        return Results.Bytes(Stylesheet.Value, "text/css; charset=utf-8");
    }
}
