// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// Login to a node's console by an auditor certificate the registry issued, in Chromium
/// presenting it against a real <c>xbus node serve</c>: the node checks it against the
/// configuration's CAs and asks the registry's OCSP responder; the account it signs in is the
/// one <c>xbus node user add --certificate</c> bound it to.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeCertificateLoginTests
{
    private ConsoleRegistry _registry = null!;
    private ConsoleNode _node = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _registry = await ConsoleRegistry.StartAsync(autoApprove: true);
        _node = await ConsoleNode.StartAsync(_registry, "ss-certificates", ("admin", "system-administrator"));
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    [Test]
    public async Task CertificateLogin_BoundAuditorCertificate_SignsInAsItsAccount_WithTheAccountsRole()
    {
        var certificate = await IssueAuditorAsync("thu");
        await BindAsync("thu", "auditor", certificate.Cert);
        await using var person = await PersonWithAsync(certificate);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");
        await Expect(page.Locator("#certificate-subject")).ToContainTextAsync("thu");

        await page.ClickAsync("#sign-in-certificate");

        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("thu");
        var trail = await page.GotoAsync("/Audit/Trail");
        Assert.That(trail!.Status, Is.EqualTo(200), "an auditor reads the message log");

        // The account's roles, not the certificate's: an auditor changes no access rule.
        var forbidden = await page.GotoAsync("/AccessRules/Change");
        Assert.That(forbidden!.Status, Is.EqualTo(403));
        var logins = NodeAdminDatabase.Open(new NodePaths(_node.Data)).Accounts(TimeProvider.System).Query(0, 1000, actor: "console:thu", action: "console.login");
        Assert.That(logins.Select(e => e.Accepted), Is.EqualTo(new[] { true }), "the login is in the node's admin audit log");
    }

    [Test]
    public async Task CertificateLogin_RevokedAuditorCertificate_IsRefusedThoughAnAccountIsBoundToIt()
    {
        var certificate = await IssueAuditorAsync("former");
        await BindAsync("former", "auditor", certificate.Cert);
        using (var issued = X509CertificateLoader.LoadCertificateFromFile(certificate.Cert))
        {
            await Xbus.MustAsync(_registry.Root, "registry", "cert", "revoke", issued.SerialNumber, "--reason", "keyCompromise", "--data", _registry.Data);
        }

        await using var person = await PersonWithAsync(certificate);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");
        await page.ClickAsync("#sign-in-certificate");

        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.CertificateRevoked");
        Assert.That(page.Url, Does.Contain("/Login"));
        var refusals = NodeAdminDatabase.Open(new NodePaths(_node.Data)).Accounts(TimeProvider.System).Query(0, 1000, actor: "console:former", action: "console.login");
        Assert.That(refusals.Select(e => e.ErrorCode), Is.EqualTo(new[] { "Console.CertificateRevoked" }), "the refusal is in the node's admin audit log");
    }

    private Task<IBrowserContext> PersonWithAsync((string Cert, string Key) certificate) =>
        _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _node.ConsoleAddress,
            IgnoreHTTPSErrors = true,
            ClientCertificates = [new ClientCertificate { Origin = _node.ConsoleAddress, CertPath = certificate.Cert, KeyPath = certificate.Key }],
        });

    /// <summary>An auditor certificate of the node's member, issued by the registry from a CSR made here (as `xbus audit keygen` would).</summary>
    private async Task<(string Cert, string Key)> IssueAuditorAsync(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = Path.Combine(_registry.Root, name + ".csr.pem");
        var (cert, keyFile) = (Path.Combine(_registry.Root, name + ".pem"), Path.Combine(_registry.Root, name + ".key.pem"));
        await File.WriteAllTextAsync(csr, new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        await Xbus.MustAsync(_registry.Root, "registry", "auditor", "issue", "--csr", csr, "--name", name, "--member", ConsoleRegistry.Member, "--out", cert, "--data", _registry.Data);
        return (cert, keyFile);
    }

    private Task BindAsync(string name, string role, string certificate) =>
        Xbus.MustWithInputAsync(_registry.Root, ConsoleRegistry.Password, "node", "user", "add", name, "--role", role, "--certificate", certificate, "--data", _node.Data);
}
