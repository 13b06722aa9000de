// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Security;

/// <summary>
/// The headers on every console answer. The policy allows no script at all and only the
/// console's own stylesheet: an injected tag or attribute does nothing, whatever else fails.
/// </summary>
internal static class ConsoleSecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static Task Apply(HttpContext context, Func<Task> next)
    {
        Set(context.Response);
        return next();
    }

    /// <summary>Sets the headers; for an answer made before the console's own middleware runs (the login's 429).</summary>
    public static void Set(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";

        // Pages show who may do what and hold antiforgery tokens: nothing is kept by caches or the back button.
        // (Antiforgery sets the same on pages with a form; set here for every page.)
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
    }
}
