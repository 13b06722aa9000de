// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// The central authority's console in Chromium against a real <c>xbus registry serve</c>: what a
/// registration officer and an auditor do, and what the server refuses them.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RegistryConsoleTests : ConsoleRegistryFixture
{
    private protected override Task<ConsoleRegistry> StartRegistryAsync() =>
        ConsoleRegistry.StartAsync(("officer", "registration-officer"), ("auditor", "auditor"), ("locked", "registration-officer"));

    [Test]
    public async Task Login_WithThePassword_ShowsTheDashboardInVietnamese()
    {
        var page = await Person.NewPageAsync();
        var response = await page.GotoAsync("/");
        Assert.That(page.Url, Does.Contain("/Login"), "a person not signed in is sent to the login page");
        await Screenshots.TakeAsync(page, "login");
        Assert.That(response!.Headers["content-security-policy"], Does.Contain("default-src 'none'"));

        await Browser.SignInAsync(page, "officer", ConsoleRegistry.Password);

        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("officer");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Tổng quan");
        await Expect(page.Locator("#members")).ToHaveTextAsync("1");
        // The registry's own TSA and OCSP responder, each by the certificate it signs with, valid for years.
        await Expect(page.Locator("#trust-services tbody tr")).ToHaveCountAsync(2);
        foreach (var service in new[] { "TSA (RFC 3161)", "OCSP (RFC 6960)" })
        {
            await Expect(page.Locator($"#trust-services tr[data-service='{service}'] .days-left")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[1-9][0-9]{2,}$"));
        }
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "vi");
        // Times in Viet Nam's zone, UTC on hover.
        await Expect(page.Locator(".tile time")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex(" UTC$"));
        await Screenshots.TakeAsync(page, "dashboard");

        var cookie = (await Person.CookiesAsync()).Single(c => c.Name == "__Host-xbus-console");
        Assert.That((cookie.Secure, cookie.HttpOnly, cookie.SameSite, cookie.Expires), Is.EqualTo((true, true, SameSiteAttribute.Strict, -1f)),
            "secure, HttpOnly, SameSite=Strict, a session cookie");
    }

    [Test]
    public async Task LanguageSwitch_ToEnglish_IsKeptForThePerson()
    {
        var page = await Person.NewPageAsync();
        await page.GotoAsync("/Login");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Đăng nhập");

        await page.ClickAsync("#lang-en");

        await Expect(page.Locator("h1")).ToHaveTextAsync("Sign in");
        await page.GotoAsync("/Login");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Sign in");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
    }

    [Test]
    public async Task Login_WithAWrongPassword_IsRefusedWithItsCode()
    {
        var page = await Person.NewPageAsync();

        await Browser.SignInAsync(page, "officer", "not the password");

        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LoginFailed");
        await Expect(page.Locator("#login-error")).ToContainTextAsync("Sai tên tài khoản hoặc mật khẩu.");
        Assert.That((await Person.CookiesAsync()).Any(c => c.Name == "__Host-xbus-console"), Is.False);

        // An unknown name gets the same answer: names are not revealed.
        await Browser.SignInAsync(page, "nobody", "not the password");
        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LoginFailed");
    }

    [Test]
    public async Task Login_AfterFiveFailures_IsLockedEvenWithThePassword()
    {
        var page = await Person.NewPageAsync();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            await Browser.SignInAsync(page, "locked", "wrong password " + attempt);
            await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LoginFailed");
        }

        await Browser.SignInAsync(page, "locked", "wrong password 5");
        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LockedOut");

        await page.ClickAsync("#lang-en");
        await Browser.SignInAsync(page, "locked", ConsoleRegistry.Password);
        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LockedOut");
        await Expect(page.Locator("#login-error")).ToContainTextAsync("The account is locked");
        await Screenshots.TakeAsync(page, "lockout-en");

        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:locked", "--data", Registry.Data);
        Assert.That(log, Does.Contain("Console.LockedOut").And.Contain("Console.LoginFailed"));
    }

    [Test]
    public async Task RegistrationOfficer_ApprovesAPendingRegistration_AndTheNodeJoins()
    {
        var node = await Registry.RegisterNodeAsync("ss1");
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "officer", ConsoleRegistry.Password);

        await page.ClickAsync("#nav-registrations");
        await Screenshots.TakeAsync(page, "registrations");
        var row = page.Locator("#registrations tr", new PageLocatorOptions { HasText = ConsoleRegistry.Member + "/ss1" });
        await row.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.Locator("#node")).ToHaveTextAsync(ConsoleRegistry.Member + "/ss1");
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "Pending");
        await Expect(page.Locator("dl.facts dd.mono").First).ToContainTextAsync("CN=");
        await Screenshots.TakeAsync(page, "registration");

        await page.ClickAsync("#approve");

        await Expect(page.Locator("#outcome")).ToHaveTextAsync("Đã phê duyệt đăng ký.");
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "Approved");
        await Screenshots.TakeAsync(page, "registration-approved");

        // The node fetches its certificates: it has joined.
        var registered = await Xbus.MustAsync(Registry.Root, "node", "register", "--data", node);
        Assert.That(registered, Does.Contain("approved; certificates saved"));
        var nodes = await Xbus.MustAsync(Registry.Root, "registry", "node", "list", "--data", Registry.Data);
        Assert.That(nodes, Does.Contain(ConsoleRegistry.Member + "/ss1"));
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:officer", "--action", "registration.approve", "--data", Registry.Data);
        Assert.That(log, Does.Contain("accepted"));
    }

    [Test]
    public async Task RegistrationOfficer_AWrongFingerprint_IsRefusedWithTheStoresCode_ThenRefusesWithAReason()
    {
        await Registry.RegisterNodeAsync("ss3");
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "officer", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-registrations");
        await page.Locator("#registrations tr", new PageLocatorOptions { HasText = ConsoleRegistry.Member + "/ss3" }).GetByRole(AriaRole.Link).ClickAsync();

        await page.FillAsync("#fingerprint", new string('A', 64));
        await page.ClickAsync("#approve");
        await Expect(page.Locator("#decision-error")).ToHaveAttributeAsync("data-code", "Registry.FingerprintMismatch");
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "Pending");

        await page.FillAsync("#refuse-reason", "Không phải nút của Bộ");
        await page.ClickAsync("#refuse");
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "Refused");
        await Expect(page.Locator("#registration")).ToContainTextAsync("Không phải nút của Bộ");
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:officer", "--data", Registry.Data);
        Assert.That(log, Does.Contain("Registry.FingerprintMismatch").And.Contain("registration.refuse"));
    }

    [Test]
    public async Task Auditor_CannotApprove_EvenByPostingTheFormThemselves()
    {
        await Registry.RegisterNodeAsync("ss2");
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "auditor", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-registrations");
        await page.Locator("#registrations tr", new PageLocatorOptions { HasText = ConsoleRegistry.Member + "/ss2" }).GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "Pending");
        await Expect(page.Locator("#approve-form")).ToHaveCountAsync(0);
        var id = new Uri(page.Url).Query.Split("id=")[1];

        // The auditor's own, valid antiforgery token (from the sign-out form): only the role stops this.
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var form = Person.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        form.Set("id", Uri.UnescapeDataString(id));
        form.Set("decision", "approve");
        var forged = await Person.APIRequest.PostAsync("/Registrations/Decide", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });

        Assert.That(forged.Status, Is.EqualTo(403));
        Assert.That(await forged.TextAsync(), Does.Contain("Console.Forbidden"));
        await page.ReloadAsync();
        await Expect(page.Locator("#state")).ToHaveAttributeAsync("data-state", "Pending");
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:auditor", "--data", Registry.Data);
        Assert.That(log, Does.Contain("console.forbidden").And.Contain("Console.Forbidden"));
    }

    [Test]
    public async Task Post_WithoutTheAntiforgeryToken_IsRefused()
    {
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "officer", ConsoleRegistry.Password);
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("officer");
        var form = Person.APIRequest.CreateFormData();
        form.Set("id", "anything");
        form.Set("decision", "refuse");
        form.Set("reason", "no token");

        var response = await Person.APIRequest.PostAsync("/Registrations/Decide", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });

        Assert.That(response.Status, Is.EqualTo(400));
    }
}
