// SPDX-License-Identifier: Apache-2.0
using Microsoft.Playwright;

namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// Chromium from the operating system's packages (test.sh installs it), driven by Playwright:
/// Playwright's own browser download is not reachable here, so it is launched by path.
/// </summary>
internal static class Browser
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            Assert.Fail($"{ChromiumPath} is missing: install the Debian package chromium (test.sh does).");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
        return (playwright, browser);
    }

    /// <summary>A fresh person: no cookies; the console's self-signed certificate accepted, as its operator would after checking it.</summary>
    public static Task<IBrowserContext> PersonAsync(IBrowser browser, string consoleAddress) =>
        browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = consoleAddress, IgnoreHTTPSErrors = true });

    /// <summary>A fresh person whose browser presents <paramref name="certificate"/> (PEM files) to the console at <paramref name="consoleAddress"/>.</summary>
    public static Task<IBrowserContext> PersonWithCertificateAsync(IBrowser browser, string consoleAddress, (string Cert, string Key) certificate) =>
        browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = consoleAddress,
            IgnoreHTTPSErrors = true,
            ClientCertificates = [new ClientCertificate { Origin = consoleAddress, CertPath = certificate.Cert, KeyPath = certificate.Key }],
        });

    public static async Task SignInAsync(IPage page, string name, string password)
    {
        await page.GotoAsync("/Login");
        await page.FillAsync("#name", name);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#sign-in");
    }
}
