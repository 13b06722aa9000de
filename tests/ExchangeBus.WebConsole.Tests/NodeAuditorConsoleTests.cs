// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// The node auditor's pages in Chromium against real <c>xbus node serve</c> processes
/// (<see cref="ConsoleBus"/>): calls about two citizens, then the provider node's auditor finds
/// one citizen's trail, opens a record's evidence, downloads its bundle and has
/// <c>xbus audit verify-bundle</c> check it; a service administrator is refused.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeAuditorConsoleTests : ConsoleBusFixture
{
    private const string Citizen = "079204001234";
    private const string OtherCitizen = "001099000777";

    private protected override async Task PrepareAsync()
    {
        foreach (var subject in new[] { Citizen, OtherCitizen, Citizen })
        {
            var call = await Bus.CallAsync(subject);
            Assert.That(call.Exit, Is.Zero, call.ToString());
        }
    }

    [Test]
    public async Task Trail_OfOneCitizen_ShowsOnlyThatCitizensExchanges()
    {
        var page = await SignedInAsync("auditor");
        await page.ClickAsync("#nav-audit-trail");
        await page.FillAsync("#subject", Citizen);
        await page.ClickAsync("#show");

        var rows = page.Locator("#trail tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        foreach (var row in await rows.AllAsync())
        {
            await Expect(row.Locator(".outcome")).ToHaveTextAsync("answered");
            Assert.That(await row.InnerTextAsync(), Does.Contain(ConsoleBus.Service).And.Contain("officer-17").And.Contain("HS-2026-0042"));
        }

        await Screenshots.TakeAsync(page, "node-audit-trail");
        await page.GotoAsync("/Audit/Trail?subject=" + OtherCitizen);
        await Expect(rows).ToHaveCountAsync(1);
    }

    [Test]
    public async Task Record_ShowsItsSignatureAndInclusionVerified_AndItsBundleVerifiesWithXbus()
    {
        var page = await SignedInAsync("auditor");
        var messageId = await MessageIdAsync(page, Citizen);
        await page.GotoAsync("/Audit/Query?messageId=" + Uri.EscapeDataString(messageId));
        await page.Locator("#records .record-link").First.ClickAsync();
        if (await page.Locator("#stamp-now").CountAsync() > 0)
        {
            await page.ClickAsync("#stamp-now");
            await Expect(page.Locator("#done")).ToBeVisibleAsync();
        }

        await Expect(page.Locator("#message-id")).ToHaveTextAsync(messageId);
        await Expect(page.Locator("#signature-status")).ToHaveTextAsync("đã xác minh");
        await Expect(page.Locator("#signer-serial")).Not.ToBeEmptyAsync();
        await Expect(page.Locator("#ocsp-status")).ToContainTextAsync("Hợp lệ");
        await Expect(page.Locator("#head-signature-status")).ToHaveTextAsync("đã xác minh");
        await Expect(page.Locator("#time-stamp-status")).ToHaveTextAsync("đã xác minh");
        await Expect(page.Locator("#inclusion-status")).ToHaveTextAsync("đã xác minh");
        Assert.That(await page.ContentAsync(), Does.Not.Contain(Citizen + "\"}"), "the body is never shown");
        await Screenshots.TakeAsync(page, "node-audit-record");

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-bundle"));
        var file = Path.Combine(Bus.Registry.Root, "bundle-" + Guid.NewGuid().ToString("N") + ".zip");
        await download.SaveAsAsync(file);
        var verified = await Xbus.RunAsync(Bus.Registry.Root, "audit", "verify-bundle", file, "--anchor", Path.Combine(Bus.Provider.Data, "anchor.json"));
        Assert.That(verified.Exit, Is.Zero, verified.ToString());
        Assert.That(verified.Output, Does.Contain(messageId).And.Contain("verified: every check passed"));
    }

    [Test]
    public async Task ServiceAdministrator_IsRefusedTheTrailAndTheBundle()
    {
        var auditor = await SignedInAsync("auditor");
        var messageId = await MessageIdAsync(auditor, Citizen);
        await auditor.Context.ClearCookiesAsync();

        var page = await SignedInAsync("services");
        await Expect(page.Locator("#nav-audit-trail")).ToHaveCountAsync(0);
        foreach (var path in new[] { "/Audit/Trail?subject=" + Citizen, "/Audit/Bundle?messageId=" + Uri.EscapeDataString(messageId) })
        {
            var response = await page.GotoAsync(path);
            Assert.That(response!.Status, Is.EqualTo(403), path);
            await Expect(page.Locator("#error")).ToHaveAttributeAsync("data-code", "Console.Forbidden");
            Assert.That(await page.ContentAsync(), Does.Not.Contain(messageId));
        }
    }

    [Test]
    public async Task Query_ByService_ShowsOnlyThatServicesRecords()
    {
        var page = await SignedInAsync("auditor");
        await page.ClickAsync("#nav-audit-query");
        await page.FillAsync("#service", ConsoleBus.Service);
        await page.ClickAsync("#show");

        var services = page.Locator("#records tbody tr .service");
        Assert.That(await services.CountAsync(), Is.GreaterThanOrEqualTo(6), "three calls, a request and a response record each");
        Assert.That(await services.AllInnerTextsAsync(), Is.All.EqualTo(ConsoleBus.Service));
        await Screenshots.TakeAsync(page, "node-audit-query");

        await page.FillAsync("#service", ConsoleBus.Transport + "/driving-licence/noSuchService/v1");
        await page.ClickAsync("#show");
        await Expect(page.Locator("#nothing-found")).ToBeVisibleAsync();
    }

    [Test]
    public async Task Verify_TheWholeLog_SaysIntact()
    {
        var page = await SignedInAsync("auditor");
        await page.ClickAsync("#nav-audit-verify");
        await page.ClickAsync("#verify");

        await Expect(page.Locator("#verify-status")).ToHaveAttributeAsync("data-valid", "true");
        await Expect(page.Locator("#verify-status")).ToHaveTextAsync("Nguyên vẹn");
        Assert.That(long.Parse(await page.Locator("#records-checked").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(6));
        await Screenshots.TakeAsync(page, "node-audit-verify");
    }

    private static async Task<string> MessageIdAsync(IPage page, string subject)
    {
        await page.GotoAsync("/Audit/Trail?subject=" + subject);
        return (await page.Locator("#trail tbody tr").First.GetAttributeAsync("data-message-id"))!;
    }
}
