// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// The file sync page's retry in Chromium against real <c>xbus node serve</c> processes
/// (<see cref="ConsoleBus"/>): a file the province's system sends to the ministry's licence
/// subsystem fails for real (the ministry's node does not receive files for it), the ministry's
/// operator puts that right with <c>xbus node</c> commands, and the province's system
/// administrator retries the delivery from the page until it is delivered. An auditor's forged
/// retry is refused on the server. Every request is in the province node's admin audit log.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeFileSyncConsoleTests : ConsoleBusFixture
{
    private const string Recipient = ConsoleBus.Transport + "/driving-licence";
    private const string FileId = "licence-scan-1";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private protected override string ConsoleAddress => Bus.Client.ConsoleAddress;

    [Test]
    public async Task AFailedDelivery_RetriedFromThePage_IsDelivered_AndAnAuditorsForgedRetryIsForbidden()
    {
        var root = Bus.Registry.Root;
        var scan = Path.Combine(root, "licence-scan.pdf");
        await File.WriteAllBytesAsync(scan, System.Security.Cryptography.RandomNumberGenerator.GetBytes(20_000));
        await Xbus.MustAsync(root, "files", "send", scan, "--node", Bus.Client.LocalAddress, "--client", ConsoleBus.CallingSystem,
            "--to", Recipient, "--file-id", FileId, "--dossier", "HS-2026-0042");

        var admin = await PersonAsync(Bus.Client.ConsoleAddress);
        var auditor = await PersonAsync(Bus.Client.ConsoleAddress);
        try
        {
            var page = await admin.NewPageAsync();
            await Browser.SignInAsync(page, "admin", ConsoleRegistry.Password);
            await page.ClickAsync("#nav-file-sync");
            var row = page.Locator($"#outbox tr[data-file='{FileId}'][data-recipient='{Recipient}']");

            // The ministry's node refuses the file (it does not receive files for that subsystem):
            // a recipient's refusal, final for the delivery worker.
            await ReloadUntilAsync(page, row, "Failed");
            await Expect(row.Locator(".retry")).ToBeVisibleAsync();
            await Expect(page.Locator("#retry-help")).ToBeVisibleAsync();
            await Screenshots.TakeAsync(page, "node-file-sync");

            // An auditor sees no button, and a retry posted with their own antiforgery token is refused.
            var auditorPage = await auditor.NewPageAsync();
            await Browser.SignInAsync(auditorPage, "auditor", ConsoleRegistry.Password);
            await auditorPage.GotoAsync("/FileSync");
            await Expect(auditorPage.Locator($"#outbox tr[data-file='{FileId}']")).ToHaveAttributeAsync("data-state", "Failed");
            await Expect(auditorPage.Locator(".retry")).ToHaveCountAsync(0);
            var token = await auditorPage.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
            var form = auditor.APIRequest.CreateFormData();
            form.Set("__RequestVerificationToken", token!);
            form.Set("sender", ConsoleBus.CallingSystem);
            form.Set("fileId", FileId);
            form.Set("recipient", Recipient);
            var forged = await auditor.APIRequest.PostAsync("/FileSync/Retry", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });
            Assert.That(forged.Status, Is.EqualTo(403));
            Assert.That(await forged.TextAsync(), Does.Contain("Console.Forbidden"));
            await page.ReloadAsync();
            await Expect(row).ToHaveAttributeAsync("data-state", "Failed");

            // The ministry's operator puts the cause right: the subsystem receives files on its node, from the province's system.
            var ministry = Bus.Provider.Data;
            await Xbus.MustAsync(root, "node", "client", "add", Recipient, "--data", ministry);
            await Xbus.MustAsync(root, "node", "acl", "allow", Recipient + "/receiveFiles", ConsoleBus.CallingSystem, "--data", ministry);

            // Retried from the page; the ministry's node applies node.json at its next poll, so a
            // retry that comes before it fails the same way and is retried again.
            var deadline = DateTime.UtcNow + Patience;
            while (true)
            {
                await row.Locator(".retry").ClickAsync();
                await Expect(page.Locator("#outcome")).ToHaveTextAsync("Đã đưa lần chuyển trở lại hàng đợi; nút sẽ gửi ngay.");
                var state = await SettledAsync(page, row);
                if (state == "Delivered" || DateTime.UtcNow > deadline)
                {
                    Assert.That(state, Is.EqualTo("Delivered"));
                    break;
                }
            }

            // A delivered one is not retried: the row has no button, and a posted retry is refused with its code.
            await Expect(row.Locator(".retry")).ToHaveCountAsync(0);
            var again = await admin.APIRequest.PostAsync("/FileSync/Retry", new APIRequestContextOptions { Form = RetryForm(admin, await Token(page)) });
            Assert.That(again.Url, Does.Contain("error=Files.NotRetryable"));
            await page.GotoAsync(again.Url);
            await Expect(page.Locator("#retry-error")).ToHaveAttributeAsync("data-code", "Files.NotRetryable");

            var entries = NodeAdminDatabase.Open(new NodePaths(Bus.Client.Data)).Accounts(TimeProvider.System).Query(0, 1000);
            Assert.That(entries.Where(e => e.Actor == "console:admin" && e.Action == "node.files.retry").Select(e => e.Accepted), Does.Contain(true).And.Contain(false));
            Assert.That(entries.Where(e => e.Actor == "console:auditor").Select(e => (e.Action, e.ErrorCode)), Does.Contain(("console.forbidden", "Console.Forbidden")));
        }
        finally
        {
            await admin.DisposeAsync();
            await auditor.DisposeAsync();
        }
    }

    private static IFormData RetryForm(IBrowserContext person, string token)
    {
        var form = person.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token);
        form.Set("sender", ConsoleBus.CallingSystem);
        form.Set("fileId", FileId);
        form.Set("recipient", Recipient);
        return form;
    }

    private static async Task<string> Token(IPage page) =>
        (await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value"))!;

    /// <summary>Reloads the page until the row has <paramref name="state"/> (the worker runs on its own), bounded by <see cref="Patience"/>.</summary>
    private static async Task ReloadUntilAsync(IPage page, ILocator row, string state)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (await row.CountAsync() == 0 || await row.GetAttributeAsync("data-state") != state)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the delivery did not become {state}");
            await Task.Delay(250);
            await page.ReloadAsync();
        }
    }

    /// <summary>Reloads until the row is delivered or failed again; returns which.</summary>
    private static async Task<string> SettledAsync(IPage page, ILocator row)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var state = await row.GetAttributeAsync("data-state");
            if (state is "Delivered" or "Acknowledged" or "Failed")
            {
                return state;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the retried delivery did not settle");
            await Task.Delay(250);
            await page.ReloadAsync();
        }
    }
}
