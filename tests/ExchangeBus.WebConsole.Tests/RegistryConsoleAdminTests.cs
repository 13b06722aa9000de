// SPDX-License-Identifier: Apache-2.0
using System.Text.RegularExpressions;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Node.GlobalConf;
using Google.Protobuf;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// The rest of the central authority's console in Chromium against a real <c>xbus registry
/// serve</c>: members and subsystems, certificates and their revocation, nodes, global groups,
/// configuration versions and the admin audit log; each change checked through the CLI, and
/// each role's limit checked by a forged POST.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class RegistryConsoleAdminTests : ConsoleRegistryFixture
{
    private const string Group = "VN/one-stop-shops";

    private protected override Task<ConsoleRegistry> StartRegistryAsync() =>
        ConsoleRegistry.StartAsync(("officer", "registration-officer"), ("security", "security-officer"), ("sysadmin", "system-administrator"), ("auditor", "auditor"));

    private protected override Task PrepareAsync() =>
        Xbus.MustAsync(Registry.Root, "registry", "group", "add", Group, "--description", "Bộ phận một cửa", "--data", Registry.Data);

    [Test]
    public async Task RegistrationOfficer_AddsAMemberAndASubsystem_ThenDisablesTheMember_AndTheCliAgrees()
    {
        var page = await SignedInAsync("officer");
        await page.ClickAsync("#nav-members");
        await Screenshots.TakeAsync(page, "members");

        await AddMemberAsync(page, "GOV/000.00.00.G02", "Bộ Tài chính");
        await Expect(page.Locator("#outcome")).ToHaveAttributeAsync("data-done", "addMember");
        await Expect(page.Locator("#member-name")).ToHaveTextAsync("Bộ Tài chính");
        await page.FillAsync("#subsystem-code", "thue");
        await page.ClickAsync("#add-subsystem");
        await Expect(page.Locator("#subsystems")).ToContainTextAsync("VN/GOV/000.00.00.G02/thue");
        await Screenshots.TakeAsync(page, "member");

        var members = await Xbus.MustAsync(Registry.Root, "registry", "member", "list", "--data", Registry.Data);
        Assert.That(members, Does.Contain("VN/GOV/000.00.00.G02").And.Contain("Bộ Tài chính").And.Contain("thue"));

        await page.ClickAsync("#member-toggle");
        await Expect(page.Locator("#member-state")).ToHaveAttributeAsync("data-enabled", "false");
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:officer", "--data", Registry.Data);
        Assert.That(log, Does.Contain("member.add").And.Contain("subsystem.add").And.Contain("member.disable"));

        // The store's refusal comes back with its code: the member exists.
        await page.ClickAsync("#nav-members");
        await AddMemberAsync(page, "GOV/000.00.00.G02", "Bộ Tài chính");
        await Expect(page.Locator("#action-error")).ToHaveAttributeAsync("data-code", "Registry.DuplicateMember");

        // Search, a page at a time.
        await page.FillAsync("#q", "Tài chính");
        await page.ClickAsync("#search");
        await Expect(page.Locator("#members-table tbody tr")).ToHaveCountAsync(1);
    }

    [Test]
    public async Task SystemAdministrator_AddsAMemberClass_ARegistrationOfficerMayNot()
    {
        var page = await SignedInAsync("sysadmin");
        await page.GotoAsync("/Members/Classes");
        await page.FillAsync("#class-code", "COM");
        await page.FillAsync("#class-description", "Doanh nghiệp");
        await page.ClickAsync("#add-class");
        await Expect(page.Locator("#outcome")).ToBeVisibleAsync();
        await Expect(page.Locator("#member-classes-table tr[data-class=COM]")).ToContainTextAsync("Doanh nghiệp");
        await Screenshots.TakeAsync(page, "member-classes");

        await using var officer = await PersonAsync(Registry.ConsoleAddress);
        var officerPage = await officer.NewPageAsync();
        await Browser.SignInAsync(officerPage, "officer", ConsoleRegistry.Password);
        await officerPage.GotoAsync("/Members/Classes");
        await Expect(officerPage.Locator("#add-class-form")).ToHaveCountAsync(0);
        var forged = await ForgedPostAsync(officer, officerPage, "/Members/AddClass", ("code", "ORG"), ("description", "forged"));
        Assert.That(forged.Status, Is.EqualTo(403));
    }

    [Test]
    public async Task AMemberNamedLikeAScript_IsShownAsText()
    {
        const string Name = "<script>alert(1)</script>";
        var page = await SignedInAsync("officer");
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) => dialogs.Add(dialog.Message);
        await page.ClickAsync("#nav-members");

        await AddMemberAsync(page, "GOV/000.00.00.X01", Name);

        await Expect(page.Locator("#member-name")).ToHaveTextAsync(Name);
        await Expect(page.Locator("h1")).ToContainTextAsync("VN/GOV/000.00.00.X01");
        await page.GotoAsync("/Members?q=000.00.00.X01");
        await Expect(page.Locator(".member-name")).ToHaveTextAsync(Name);
        Assert.That(await page.Locator("#members-table script").CountAsync(), Is.Zero, "no script element was made of it");
        Assert.That(await page.ContentAsync(), Does.Contain("&lt;script&gt;alert(1)&lt;/script&gt;"));
        Assert.That(dialogs, Is.Empty, "no dialog fired");
    }

    [Test]
    public async Task SecurityOfficer_RevokesANodesCertificate_AndTheRegistryListsItRevoked()
    {
        var node = ConsoleRegistry.Member + "/ss9";
        await Registry.RegisterNodeAsync("ss9");
        var officer = await SignedInAsync("officer");
        await officer.ClickAsync("#nav-registrations");
        await officer.Locator("#registrations tr", new PageLocatorOptions { HasText = node }).GetByRole(AriaRole.Link).ClickAsync();
        await officer.ClickAsync("#approve");
        await Expect(officer.Locator("#state")).ToHaveAttributeAsync("data-state", "Approved");
        await officer.ClickAsync("#nav-nodes");
        await Expect(officer.Locator("#nodes-table")).ToContainTextAsync(node);
        await Screenshots.TakeAsync(officer, "nodes");

        await using var security = await PersonAsync(Registry.ConsoleAddress);
        var page = await security.NewPageAsync();
        await Browser.SignInAsync(page, "security", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-certificates");
        await page.FillAsync("#owner", node);
        await page.ClickAsync("#search");
        await Expect(page.Locator("#certificates tbody tr")).ToHaveCountAsync(2);
        await Screenshots.TakeAsync(page, "certificates");
        await page.Locator("#certificates tbody tr", new() { HasText = "CN=ss9" }).GetByRole(AriaRole.Link).ClickAsync();
        var serial = (await page.Locator("#serial-number").TextContentAsync())!.Trim();
        await Expect(page.Locator("#certificate-state")).ToHaveAttributeAsync("data-revoked", "false");
        await page.SelectOptionAsync("#reason", "keyCompromise");
        await Screenshots.TakeAsync(page, "certificate");

        await page.ClickAsync("#revoke");

        await Expect(page.Locator("#outcome")).ToHaveAttributeAsync("data-done", "revoked");
        await Expect(page.Locator("#certificate-state")).ToHaveAttributeAsync("data-revoked", "true");
        await Expect(page.Locator("#revocation-reason")).ToHaveTextAsync("keyCompromise");
        var listed = await Xbus.MustAsync(Registry.Root, "registry", "cert", "list", "--data", Registry.Data);
        Assert.That(listed.Split('\n').Single(l => l.StartsWith(serial + " ", StringComparison.Ordinal)), Does.Contain("REVOKED keyCompromise"));
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:security", "--action", "certificate.revoke", "--data", Registry.Data);
        Assert.That(log, Does.Contain("accepted"));
    }

    [Test]
    public async Task Auditor_CannotRevoke_EvenByPostingTheFormThemselves()
    {
        var page = await SignedInAsync("auditor");
        await page.ClickAsync("#nav-certificates");
        var row = page.Locator("#certificates tbody tr:has(td[data-revoked=false])").First;
        var serial = await row.GetAttributeAsync("data-serial");
        await row.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.Locator("#certificate-state")).ToHaveAttributeAsync("data-revoked", "false");
        await Expect(page.Locator("#revoke-form")).ToHaveCountAsync(0);

        var forged = await ForgedPostAsync(Person, page, "/Certificates/Revoke", ("serial", serial!), ("reason", "keyCompromise"));

        Assert.That(forged.Status, Is.EqualTo(403));
        Assert.That(await forged.TextAsync(), Does.Contain("Console.Forbidden"));
        await page.ReloadAsync();
        await Expect(page.Locator("#certificate-state")).ToHaveAttributeAsync("data-revoked", "false");
        var members = await ForgedPostAsync(Person, page, "/Members/Change", ("op", "addMember"), ("member", "GOV/AUDITOR1"), ("name", "forged"));
        Assert.That(members.Status, Is.EqualTo(403));
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:auditor", "--data", Registry.Data);
        Assert.That(log, Does.Contain("console.forbidden"));
    }

    [Test]
    public async Task RegistrationOfficer_AddsAndRemovesAGlobalGroupMember()
    {
        var page = await SignedInAsync("officer");
        await page.ClickAsync("#nav-groups");
        await page.Locator("#groups tr", new() { HasText = Group }).GetByRole(AriaRole.Link).ClickAsync();
        await page.FillAsync("#group-member", ConsoleRegistry.Member);
        await page.ClickAsync("#add-group-member");
        await Expect(page.Locator("#group-members")).ToContainTextAsync(ConsoleRegistry.Member);
        await Screenshots.TakeAsync(page, "group");

        await page.FillAsync("#group-member", "VN/GOV/NOBODY");
        await page.ClickAsync("#add-group-member");
        await Expect(page.Locator("#action-error")).ToHaveAttributeAsync("data-code", "Registry.UnknownMember");

        await page.ClickAsync("#nav-groups");
        await Expect(page.Locator($"#groups tr[data-group='{Group}']")).ToContainTextAsync("1");
        await Screenshots.TakeAsync(page, "groups");
        await page.Locator("#groups tr", new() { HasText = Group }).GetByRole(AriaRole.Link).ClickAsync();
        await page.Locator("#group-members tr", new() { HasText = ConsoleRegistry.Member }).GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator("#no-group-members")).ToBeVisibleAsync();
        var log = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:officer", "--action", "group.removeMember", "--data", Registry.Data);
        Assert.That(log, Does.Contain("accepted"));
    }

    [Test]
    public async Task Configuration_TheDownloadVerifiesWithTheAnchor_AndTheFingerprintIsTheCliOne()
    {
        var page = await SignedInAsync("auditor");
        await page.ClickAsync("#nav-configuration");
        await Screenshots.TakeAsync(page, "configuration");
        var exported = await Xbus.MustAsync(Registry.Root, "registry", "anchor", "export", "--data", Registry.Data, "--out", Path.Combine(Registry.Root, "anchor-check.json"), "--force");
        var fingerprint = FingerprintLine().Match(exported).Groups[1].Value.Trim();
        await Expect(page.Locator("#anchor-fingerprint")).ToHaveTextAsync(fingerprint);

        var newest = page.Locator("#configurations tbody tr").First;
        var version = ulong.Parse((await newest.GetAttributeAsync("data-version"))!, System.Globalization.CultureInfo.InvariantCulture);
        var download = await page.RunAndWaitForDownloadAsync(() => newest.GetByRole(AriaRole.Link).ClickAsync());
        var bytes = await File.ReadAllBytesAsync((await download.PathAsync())!);

        var result = new GlobalConfigurationVerifier(ConfigurationAnchor.Read(Registry.Anchor), TimeProvider.System).Verify(bytes, installed: null);
        Assert.That(result.IsValid, Is.True, result.ToString());
        Assert.That(result.View!.Version, Is.EqualTo(version));
        Assert.That(download.SuggestedFilename, Is.EqualTo($"globalconf-VN-{version}.bin"));

        // Byte for byte what the registry serves nodes (RegistryService.GetGlobalConfiguration over its TLS, as a node asks).
        using var channel = RegistryChannel.Create(ConfigurationAnchor.Read(Registry.Anchor), TimeProvider.System);
        var served = await new RegistryService.RegistryServiceClient(channel).GetGlobalConfigurationAsync(new GetGlobalConfigurationRequest());
        var response = await Person.APIRequest.GetAsync($"/Configuration/Download?version={served.Version}");
        Assert.That(await response.BodyAsync(), Is.EqualTo(served.Configuration.ToByteArray()));
        var unknown = await Person.APIRequest.GetAsync($"/Configuration/Download?version={served.Version + 1000}");
        Assert.That(unknown.Status, Is.EqualTo(404));
    }

    [Test]
    public async Task AuditLog_ShowsTheConsolesActionsWithTheAccount_AndTheChainVerifies()
    {
        var officer = await SignedInAsync("officer");
        await officer.ClickAsync("#nav-members");
        await AddMemberAsync(officer, "GOV/000.00.00.A01", "Sở Tư pháp");
        await Expect(officer.Locator("#outcome")).ToBeVisibleAsync();

        await using var auditor = await PersonAsync(Registry.ConsoleAddress);
        var page = await auditor.NewPageAsync();
        await Browser.SignInAsync(page, "auditor", ConsoleRegistry.Password);
        await page.ClickAsync("#nav-audit");
        await page.FillAsync("#actor", "console:officer");
        await page.FillAsync("#action", "member.add");
        await page.SelectOptionAsync("#result", "accepted");
        await page.ClickAsync("#filter");
        var rows = page.Locator("#audit-entries tbody tr");
        await Expect(rows.First).ToContainTextAsync("000.00.00.A01");
        foreach (var actor in await page.Locator("#audit-entries td.actor").AllTextContentsAsync())
        {
            Assert.That(actor, Is.EqualTo("console:officer"));
        }

        await page.GotoAsync("/AuditLog");
        await Screenshots.TakeAsync(page, "audit-log");
        await page.ClickAsync("#verify");
        await Expect(page.Locator("#verify-result")).ToHaveAttributeAsync("data-valid", "true");
        await Screenshots.TakeAsync(page, "audit-verify");
        var cli = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "verify", "--data", Registry.Data);
        Assert.That(cli, Does.Contain((await page.Locator("#verify-entries").TextContentAsync())!.Trim()));
    }

    private static async Task AddMemberAsync(IPage page, string member, string name)
    {
        await page.FillAsync("#new-member", member);
        await page.FillAsync("#new-member-name", name);
        await page.ClickAsync("#add-member");
    }

    /// <summary>A POST with the person's own valid antiforgery token (from the sign-out form): only the role can stop it.</summary>
    private static async Task<IAPIResponse> ForgedPostAsync(IBrowserContext person, IPage page, string path, params (string Name, string Value)[] fields)
    {
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var form = person.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        foreach (var (name, value) in fields)
        {
            form.Set(name, value);
        }

        return await person.APIRequest.PostAsync(path, new APIRequestContextOptions { Form = form, MaxRedirects = 0 });
    }

    [GeneratedRegex("^fingerprint ([0-9A-F ]+?)  ", RegexOptions.Multiline)]
    private static partial Regex FingerprintLine();
}
