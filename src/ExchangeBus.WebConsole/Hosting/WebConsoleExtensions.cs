// SPDX-License-Identifier: Apache-2.0
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using ExchangeBus.Grpc;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.WebEncoders;

namespace ExchangeBus.WebConsole.Hosting;

public static class WebConsoleExtensions
{
    /// <summary>The pages' root folder in every assembly that has console pages.</summary>
    public const string PagesRoot = "/WebConsole";

    /// <summary>
    /// Registers a component's console: sign-in and lockout over the component's
    /// <see cref="IConsoleAccountStore"/> (register it too), login by client certificate when the
    /// component registers its <see cref="IConsoleCertificateCheck"/>, the session cookie, antiforgery,
    /// the 403 answer, and Razor Pages from this library and <paramref name="pages"/> only.
    /// Add the component's policies to the returned builder
    /// (<see cref="ConsolePolicies.AddRolePolicy"/>); map with <see cref="MapWebConsole"/>.
    /// </summary>
    /// <param name="services">The component's services.</param>
    /// <param name="pages">The component's assembly with its pages under <see cref="PagesRoot"/>.</param>
    /// <param name="options">The component's console settings.</param>
    /// <param name="keysDirectory">Where the cookie-protection keys are kept (in the component's data folder), so sessions survive a restart.</param>
    public static AuthorizationBuilder AddWebConsole(
        this IServiceCollection services, Assembly pages, Func<IServiceProvider, ConsoleOptions> options, Func<IServiceProvider, string> keysDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(options);
        services.AddSingleton<ConsoleSignIn>();
        services.AddSingleton<ConsoleCertificateSignIn>();
        services.TryAddSingleton<IConsoleCertificateCheck, NoConsoleCertificates>();
        services.AddRazorPages(o =>
            {
                o.RootDirectory = PagesRoot;
                o.Conventions.AuthorizeFolder("/", ConsolePolicies.SignedIn);
                o.Conventions.AllowAnonymousToPage("/Login");
                o.Conventions.AllowAnonymousToPage("/Language");
            })
            .ConfigureApplicationPartManager(manager =>
            {
                // Only these two: the CLI's entry assembly references every component, and
                // `xbus demo` hosts the registry's and the nodes' consoles in one process.
                manager.ApplicationParts.Clear();
                foreach (var assembly in new[] { typeof(WebConsoleExtensions).Assembly, pages }.Distinct())
                {
                    foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        manager.ApplicationParts.Add(part);
                    }
                }
            });

        // Vietnamese as characters in the page source, not numeric references (Razor's encoder otherwise keeps only ASCII).
        services.Configure<WebEncoderOptions>(o => o.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        services.AddAuthentication(ConsoleAuthentication.Scheme).AddCookie(ConsoleAuthentication.Scheme);
        services.AddOptions<CookieAuthenticationOptions>(ConsoleAuthentication.Scheme).Configure<ConsoleOptions>((cookie, console) =>
        {
            cookie.Cookie.Name = ConsoleAuthentication.CookieName;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.Path = "/";

            // A session cookie (gone with the browser) whose ticket ends after the idle time without a request.
            cookie.ExpireTimeSpan = console.IdleTimeout;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = "/Login";
            cookie.LogoutPath = "/Logout";
            cookie.Events.OnValidatePrincipal = ConsoleAuthentication.ValidateAsync;
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ConsoleAuthorizationResultHandler>();
        services.AddRateLimiter(o => o.AddPolicy<string, ConsoleLoginRateLimit>(ConsoleLoginRateLimit.Policy));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "__Host-xbus-antiforgery";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
        });
        // TempData (what a page says after post, redirect, get that is more than a code) in a
        // protected cookie kept as strictly as the others.
        services.Configure<CookieTempDataProviderOptions>(o =>
        {
            o.Cookie.Name = "__Host-xbus-tempdata";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
        });
        services.AddDataProtection().SetApplicationName("ExchangeBus.WebConsole." + pages.GetName().Name);
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((keys, provider) =>
            keys.XmlRepository = new FileSystemXmlRepository(Directory.CreateDirectory(keysDirectory(provider)), provider.GetRequiredService<ILoggerFactory>()));

        return services.AddAuthorizationBuilder().AddPolicy(ConsolePolicies.SignedIn, policy => policy
            .AddAuthenticationSchemes(ConsoleAuthentication.Scheme)
            .RequireAuthenticatedUser());
    }

    /// <summary>
    /// Maps the console's pages and stylesheet on <paramref name="listener"/> only, with the
    /// security headers, authentication and authorization on that listener's requests. The
    /// login's rate limit (<see cref="ConsoleLoginRateLimit"/>) needs the component's
    /// <c>UseRateLimiter()</c> before this, as the registry and the node have for their own limits:
    /// a second rate-limiting middleware here would count each attempt twice.
    /// </summary>
    public static WebApplication MapWebConsole(this WebApplication app, string listener)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(context => BusListeners.ListenerOf(context) == listener, console =>
        {
            console.Use(ConsoleSecurityHeaders.Apply);
            console.UseAuthentication();
            console.UseAuthorization();
        });
        app.MapRazorPages().OnListeners(listener);
        app.MapGet(ConsoleAssets.StylesheetPath, ConsoleAssets.ServeStylesheet).OnListeners(listener);
        return app;
    }
}
