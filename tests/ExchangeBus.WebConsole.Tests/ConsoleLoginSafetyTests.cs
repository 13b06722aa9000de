// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// What keeps the login safe, in Chromium against a real <c>xbus registry serve</c>: the rate
/// limit on login attempts, and login by the administrator or auditor certificates the registry
/// issues.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ConsoleLoginSafetyTests
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => (_playwright, _browser) = await Browser.LaunchAsync();

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    [Test]
    public async Task LoginAttempts_PastTheLimit_AreAnswered429TooManyAttemptsInThePersonsLanguage()
    {
        // One attempt a minute per address (and overall): the second is over the limit however fast the machine is.
        await using var registry = await ConsoleRegistry.StartAsync(
            new Dictionary<string, object> { ["loginAttemptsPerMinute"] = 1, ["loginAttemptsPerMinuteTotal"] = 1 },
            ("officer", "registration-officer"));
        await using var person = await Browser.PersonAsync(_browser, registry.ConsoleAddress);
        var page = await person.NewPageAsync();

        await Browser.SignInAsync(page, "officer", "not the password at all");
        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LoginFailed");

        var refused = await page.RunAndWaitForResponseAsync(() => Browser.SignInAsync(page, "officer", ConsoleRegistry.Password),
            r => r.Request.Method == "POST");
        Assert.That(refused.Status, Is.EqualTo(429));
        await Expect(page.Locator("#error")).ToHaveAttributeAsync("data-code", "Console.TooManyAttempts");
        await Expect(page.Locator("#error")).ToContainTextAsync("Có quá nhiều lần đăng nhập");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "vi");

        // The same refusal in English for a person who chose it; the form itself is still shown (a GET is not counted).
        await page.GotoAsync("/Login");
        await page.ClickAsync("#lang-en");
        await Browser.SignInAsync(page, "officer", ConsoleRegistry.Password);
        await Expect(page.Locator("#error")).ToHaveAttributeAsync("data-code", "Console.TooManyAttempts");
        await Expect(page.Locator("#error")).ToContainTextAsync("Too many login attempts");
        Assert.That(page.Url, Does.Contain("/Login"), "the right password did not get through the limit");
    }
}
