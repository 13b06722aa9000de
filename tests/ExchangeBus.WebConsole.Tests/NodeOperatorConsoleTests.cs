// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// The node operator's pages in Chromium against real <c>xbus node serve</c> processes
/// (<see cref="ConsoleBus"/>): access rules (the next call obeys an edit), clients, services,
/// keys and certificates, file sync; the changes are refused to other roles on the server and
/// audited in the node's admin.db with the person's account.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeOperatorConsoleTests : ConsoleBusFixture
{
    private const string AccessDenied = "Server.ServerProxy.AccessDenied";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task ServiceAdministrator_RemovesTheRule_TheNextCallIsRefused_ThenAddsItBack_AndTheNextCallSucceeds()
    {
        var before = await Bus.CallAsync("079204001234");
        Assert.That(before.Exit, Is.Zero, before.ToString());
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "services", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-access-rules");
        var rule = page.Locator($"#access-rules tr[data-subject='{ConsoleBus.CallingSystem}']");
        await Expect(rule).ToHaveAttributeAsync("data-service", ConsoleBus.Service);
        await Screenshots.TakeAsync(page, "node-access-rules");

        await rule.Locator(".remove-rule").ClickAsync();

        await Expect(page.Locator("#outcome")).ToHaveTextAsync("Đã lưu vào node.json; nút áp dụng trong vài giây.");
        await Expect(rule).ToHaveCountAsync(0);
        var refused = await CallUntilAsync(r => r.Exit != 0);
        Assert.That(refused.ToString(), Does.Contain(AccessDenied));

        await page.FillAsync("#rule-service", ConsoleBus.Service);
        await page.FillAsync("#rule-subject", ConsoleBus.CallingSystem);
        await page.ClickAsync("#add-rule");

        await Expect(page.Locator("#outcome")).ToBeVisibleAsync();
        await Expect(rule).ToHaveCountAsync(1);
        var allowed = await CallUntilAsync(r => r.Exit == 0);
        Assert.That(allowed.Output, Does.Contain("message"));

        var entries = AdminLog(Bus.Provider, "console:services");
        Assert.That(entries.Select(e => (e.Action, e.Accepted)), Is.SupersetOf(new[] { ("node.acl.deny", true), ("node.acl.allow", true) }));
        Assert.That(entries.Single(e => e.Action == "node.acl.deny").Before, Does.Contain(ConsoleBus.CallingSystem));

        // The refusal is counted on the status page.
        await page.ClickAsync("#nav-status");
        await Expect(page.Locator($"#refusals tr[data-code='{AccessDenied}'][data-side='provider'] .count")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[1-9][0-9]*$"));
    }

    [TestCase("security")]
    [TestCase("auditor")]
    public async Task ARuleChange_PostedByAnotherRole_IsForbiddenAndChangesNothing(string account)
    {
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, account, ConsoleRegistry.Password);
        await page.ClickAsync("#nav-access-rules");
        await Expect(page.Locator("#access-rules")).ToBeVisibleAsync();
        await Expect(page.Locator("#add-rule-form")).ToHaveCountAsync(0);
        await Expect(page.Locator(".remove-rule")).ToHaveCountAsync(0);

        // Their own, valid antiforgery token (from the sign-out form): only the role stops this.
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var form = Person.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        form.Set("operation", "remove");
        form.Set("service", ConsoleBus.Service);
        form.Set("subject", ConsoleBus.CallingSystem);
        var forged = await Person.APIRequest.PostAsync("/AccessRules/Change", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });

        Assert.That(forged.Status, Is.EqualTo(403));
        Assert.That(await forged.TextAsync(), Does.Contain("Console.Forbidden"));
        var rule = new AccessRule { Service = ConsoleBus.Service, Subject = ConsoleBus.CallingSystem };
        Assert.That(NodeSettings.Read(new NodePaths(Bus.Provider.Data).Settings).AccessRules, Does.Contain(rule));
        Assert.That(AdminLog(Bus.Provider, "console:" + account).Select(e => (e.Action, e.ErrorCode)), Does.Contain(("console.forbidden", "Console.Forbidden")));
    }

    [Test]
    public async Task Clients_AServiceAdministratorAddsAPinnedClientAndRemovesIt()
    {
        const string archive = ConsoleBus.Transport + "/archive";
        var pin = new string('a', 64);
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "services", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-clients");

        await page.FillAsync("#client-subsystem", archive);
        await page.FillAsync("#client-pin", pin);
        await page.UncheckAsync("#client-log-bodies");
        await page.ClickAsync("#add-client");

        var row = page.Locator($"#clients tr[data-subsystem='{archive}']");
        await Expect(row.Locator(".tls-pin")).ToHaveTextAsync(pin.ToUpperInvariant());
        await Expect(row.Locator(".log-bodies")).ToHaveTextAsync("Không");
        await Screenshots.TakeAsync(page, "node-clients");

        // Another member's subsystem is not this node's to serve: refused with the validator's code.
        await page.FillAsync("#client-subsystem", ConsoleBus.CallingSystem);
        await page.ClickAsync("#add-client");
        await Expect(page.Locator("#change-error")).ToHaveAttributeAsync("data-code", "Node.SettingsInvalid");
        await Expect(page.Locator("#change-error-message")).ToContainTextAsync("is not a subsystem of the node's owner");

        // Only the code is read back from the query string: a crafted link cannot put words on the page.
        await page.GotoAsync("/Clients?error=Node.SettingsInvalid&message=" + Uri.EscapeDataString("Call 1900 0000 to keep your node"));
        await Expect(page.Locator("#change-error")).ToHaveAttributeAsync("data-code", "Node.SettingsInvalid");
        await Expect(page.Locator("#change-error-message")).ToHaveCountAsync(0);
        await Expect(page.Locator("body")).Not.ToContainTextAsync("1900");

        await row.Locator(".remove-client").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        Assert.That(AdminLog(Bus.Provider, "console:services").Select(e => (e.Action, e.Accepted)),
            Is.SupersetOf(new[] { ("node.client.add", true), ("node.client.add", false), ("node.client.remove", true) }));
    }

    [Test]
    public async Task Services_AServiceAdministratorChangesTheBackendTimeout_AndTheCallStillWorks()
    {
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "services", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-services");
        var row = page.Locator($"#services tr[data-service='{ConsoleBus.Service}']");
        await Expect(row.Locator(".backend-kind")).ToHaveTextAsync("http");
        await Expect(row.Locator(".backend-timeout")).ToHaveTextAsync("10000");

        await row.Locator(".edit-service").ClickAsync();
        await Expect(page.Locator("#service-id")).ToHaveValueAsync(ConsoleBus.Service);
        await page.FillAsync("#service-timeout", "20000");
        await page.ClickAsync("#save-service");

        await Expect(row.Locator(".backend-timeout")).ToHaveTextAsync("20000");
        await Expect(row.Locator(".backend-kind")).ToHaveTextAsync("http");
        await Screenshots.TakeAsync(page, "node-services");
        var call = await Bus.CallAsync("079204001234");
        Assert.That(call.Exit, Is.Zero, call.ToString());
    }

    [Test]
    public async Task Keys_ShowTheCertificatesWithTheirExpiryAndFingerprints()
    {
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, "security", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-keys");

        foreach (var name in new[] { "authentication", "signing", "console" })
        {
            var section = page.Locator($"#certificate-{name}");
            await Expect(section.Locator(".sha256")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9A-F]{64}$"));
            await Expect(section.Locator(".days-left")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]+$"));
        }

        await Expect(page.Locator("#certificate-signing .subject")).ToContainTextAsync(ConsoleBus.Transport.Split('/')[^1]);
        await Expect(page.Locator("#keys-read-only")).ToBeVisibleAsync();
        await Screenshots.TakeAsync(page, "node-keys");
    }

    [Test]
    public async Task FileSync_ShowsTheOutboxAndInboxOfEachClientSubsystem()
    {
        var person = await PersonAsync(Bus.Client.ConsoleAddress);
        try
        {
            var page = await person.NewPageAsync();
            await Browser.SignInAsync(page, "admin", ConsoleRegistry.Password);
            await page.ClickAsync("#nav-file-sync");
            await Expect(page.Locator("#box")).ToHaveAttributeAsync("data-subsystem", ConsoleBus.CallingSystem);
            await Expect(page.Locator("#no-files")).ToBeVisibleAsync();

            await page.ClickAsync("#show-inbox");
            await Expect(page.Locator("#box")).ToContainTextAsync("Hộp thư đến");
            await Expect(page.Locator("#no-files")).ToBeVisibleAsync();
        }
        finally
        {
            await person.DisposeAsync();
        }
    }

    /// <summary>Calls until <paramref name="until"/> holds (the node applies node.json at its next poll), bounded by <see cref="Patience"/>.</summary>
    private async Task<XbusResult> CallUntilAsync(Func<XbusResult, bool> until)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var result = await Bus.CallAsync("079204001234");
            if (until(result) || DateTime.UtcNow > deadline)
            {
                return result;
            }
        }
    }

    /// <summary>The node's admin audit log entries by <paramref name="actor"/>, read from its admin.db as an auditor's tools would.</summary>
    private static IReadOnlyList<ExchangeBus.Core.AdminAudit.AdminAuditEntry> AdminLog(ConsoleNode node, string actor) =>
        NodeAdminDatabase.Open(new NodePaths(node.Data)).Accounts(TimeProvider.System).Query(0, 1000, actor: actor);
}
