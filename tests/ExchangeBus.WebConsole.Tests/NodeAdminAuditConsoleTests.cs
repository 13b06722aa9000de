// SPDX-License-Identifier: Apache-2.0
using System.Text.RegularExpressions;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// A node's admin audit log page in Chromium against the provider node of a real
/// <see cref="ConsoleBus"/>: what an operator did in the console is there with their account for
/// an auditor, whose verification agrees with <c>xbus node audit-log verify</c>; the roles that
/// may not read it are refused on the server.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeAdminAuditConsoleTests : ConsoleBusFixture
{
    /// <summary>A rule no other test of the bus makes: the province itself, as a member, may call the service.</summary>
    private const string Subject = ConsoleBus.Province;

    [Test]
    public async Task AnOperatorsRuleChange_IsInTheAdminLogWithTheirAccount_ForAnAuditor_AndTheChainIsIntact()
    {
        var services = await SignedInAsync("services");
        await Expect(services.Locator("#nav-admin-audit")).ToHaveCountAsync(0);
        await services.ClickAsync("#nav-access-rules");
        await services.FillAsync("#rule-service", ConsoleBus.Service);
        await services.FillAsync("#rule-subject", Subject);
        await services.ClickAsync("#add-rule");
        await Expect(services.Locator($"#access-rules tr[data-subject='{Subject}']")).ToHaveCountAsync(1);

        await using var auditor = await PersonAsync(Bus.Provider.ConsoleAddress);
        var page = await auditor.NewPageAsync();
        await Browser.SignInAsync(page, "auditor", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-admin-audit");
        await page.FillAsync("#actor", "console:services");
        await page.FillAsync("#action", "node.acl.allow");
        await page.ClickAsync("#filter");
        var rows = page.Locator("#audit-entries tbody tr");
        await Expect(rows.First).ToContainTextAsync(Subject);
        await Expect(rows.First.Locator("td.actor")).ToHaveTextAsync("console:services");
        await Expect(rows.First).ToHaveAttributeAsync("data-accepted", "true");

        await page.GotoAsync("/AdminAudit");
        await Screenshots.TakeAsync(page, "node-admin-audit");
        await page.ClickAsync("#verify");
        await Expect(page.Locator("#verify-result")).ToHaveAttributeAsync("data-valid", "true");
        var entries = (await page.Locator("#verify-entries").TextContentAsync())!.Trim();
        var cli = await Xbus.MustAsync(Bus.Registry.Root, "node", "audit-log", "verify", "--data", Bus.Provider.Data);
        Assert.That(cli.Trim(), Is.EqualTo($"admin audit log intact: {entries} entries"), "the verification is itself the last entry, and both count it");
        var verifications = await Xbus.MustAsync(Bus.Registry.Root, "node", "audit-log", "query", "--actor", "console:auditor", "--action", "auditLog.verify", "--data", Bus.Provider.Data);
        Assert.That(verifications, Does.Contain("\"valid\":true"));
    }

    [Test]
    public async Task ASystemAdministrator_ReadsTheLog()
    {
        var page = await SignedInAsync("admin");
        await page.ClickAsync("#nav-admin-audit");

        await Expect(page.Locator("#audit-entries td.action").First).ToHaveTextAsync(new Regex("^[a-zA-Z.]+$"));
        await Expect(page.Locator("#verify")).ToBeVisibleAsync();
    }

    [TestCase("services")]
    [TestCase("security")]
    public async Task AnotherRole_IsForbiddenTheLogAndItsVerification(string account)
    {
        var page = await SignedInAsync(account);
        await Expect(page.Locator("#nav-admin-audit")).ToHaveCountAsync(0);

        var read = await page.GotoAsync("/AdminAudit");
        Assert.That(read!.Status, Is.EqualTo(403));
        Assert.That(await page.ContentAsync(), Does.Contain("Console.Forbidden"));
        await page.GotoAsync("/");
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var form = Person.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        var verify = await Person.APIRequest.PostAsync("/AdminAudit/Verify", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });
        Assert.That(verify.Status, Is.EqualTo(403));
    }
}
