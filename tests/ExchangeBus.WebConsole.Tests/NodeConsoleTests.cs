// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// A node's console in Chromium against real <c>xbus node serve</c> processes joined to a real
/// registry (<see cref="ConsoleBus"/>): accounts made with <c>xbus node user add</c>, the
/// operator's status page.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeConsoleTests : ConsoleBusFixture
{
    [Test]
    public async Task Status_AfterLogin_ShowsTheNodeReadyWithItsConfigurationOcspAndLog()
    {
        var call = await Bus.CallAsync("079204001234");
        Assert.That(call.Exit, Is.Zero, call.ToString());
        var page = await Person.NewPageAsync();
        await page.GotoAsync("/");
        Assert.That(page.Url, Does.Contain("/Login"), "a person not signed in is sent to the login page");

        await Browser.SignInAsync(page, "admin", ConsoleRegistry.Password);

        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("admin");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Trạng thái");
        await Expect(page.Locator("#node-id")).ToHaveTextAsync(Bus.Provider.Node);
        await Expect(page.Locator("#ready .notice")).ToHaveTextAsync("Sẵn sàng");
        await Expect(page.Locator("#configuration-version")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[1-9][0-9]*$"));
        await Expect(page.Locator("#ocsp-status")).ToHaveTextAsync("Hợp lệ");
        Assert.That(int.Parse(await page.Locator("#log-records").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(2),
            "the call's request and response records");
        await Screenshots.TakeAsync(page, "node-status");
    }

    [Test]
    public async Task Login_WithTheWrongPassword_IsRefusedWithItsCode()
    {
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "services", "not the password");

        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LoginFailed");
        Assert.That((await Person.CookiesAsync()).Any(c => c.Name == "__Host-xbus-console"), Is.False);
    }
}
