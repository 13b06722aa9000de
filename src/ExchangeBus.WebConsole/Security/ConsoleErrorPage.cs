// SPDX-License-Identifier: Apache-2.0
using System.Text.Encodings.Web;
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.WebConsole.Security;

/// <summary>
/// A refusal answered before any page runs (a 403 from a policy, a 429 from the login limit):
/// a minimal page in the person's language with the stable code, in the layout's stylesheet,
/// with the console's security headers (the rate limiter answers before the console's middleware).
/// </summary>
internal static class ConsoleErrorPage
{
    public static Task WriteAsync(HttpContext context, int statusCode, string code)
    {
        ConsoleSecurityHeaders.Set(context.Response);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/html; charset=utf-8";
        var text = ConsoleText.For(context);
        var encoder = HtmlEncoder.Default;
        return context.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="{ConsoleLanguages.Code(ConsoleLanguages.Of(context))}">
            <head><meta charset="utf-8"><title>{encoder.Encode(text.Product)}</title><link rel="stylesheet" href="{ConsoleAssets.StylesheetPath}"></head>
            <body><main><p class="error" id="error" data-code="{code}">{encoder.Encode(text.Error(code))} ({code})</p>
            <p><a href="/">{encoder.Encode(text.Product)}</a></p></main></body>
            </html>
            """, context.RequestAborted);
    }
}
