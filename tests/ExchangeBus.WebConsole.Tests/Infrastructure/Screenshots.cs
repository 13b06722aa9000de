// SPDX-License-Identifier: Apache-2.0
using Microsoft.Playwright;

namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// Pictures of the main pages for docs/console.md, taken as the tests reach them. Only when
/// CONSOLE_SCREENSHOTS=1: otherwise every run would rewrite files in the checkout.
/// </summary>
internal static class Screenshots
{
    private static readonly string? Folder = Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS") == "1" ? DocsFolder() : null;

    public static async Task TakeAsync(IPage page, string name)
    {
        if (Folder is null)
        {
            return;
        }

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Folder, name + ".png"), FullPage = true });
    }

    private static string? DocsFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ExchangeBus.sln")))
            {
                return Directory.CreateDirectory(Path.Combine(folder.FullName, "docs", "console")).FullName;
            }
        }

        return null;
    }
}
