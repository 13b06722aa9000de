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
/// presenting it against a real <c>xbus node serve</c> (the provider node of a
/// <see cref="ConsoleBus"/>): the node checks it against the configuration's CAs and asks the
/// registry's OCSP responder; the account it signs in is the one
/// <c>xbus node user add --certificate</c> bound it to.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeCertificateLoginTests : ConsoleBusFixture
{
    private ConsoleNode Node => Bus.Provider;

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
        Assert.That(Logins("thu").Select(e => e.Accepted), Is.EqualTo(new[] { true }), "the login is in the node's admin audit log");
    }

    [Test]
    public async Task CertificateLogin_RevokedAuditorCertificate_IsRefusedThoughAnAccountIsBoundToIt()
    {
        var certificate = await IssueAuditorAsync("former");
        await BindAsync("former", "auditor", certificate.Cert);
        using (var issued = X509CertificateLoader.LoadCertificateFromFile(certificate.Cert))
        {
            await Xbus.MustAsync(Bus.Registry.Root, "registry", "cert", "revoke", issued.SerialNumber, "--reason", "keyCompromise", "--data", Bus.Registry.Data);
        }

        await using var person = await PersonWithAsync(certificate);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");
        await page.ClickAsync("#sign-in-certificate");

        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.CertificateRevoked");
        Assert.That(page.Url, Does.Contain("/Login"));
        Assert.That(Logins("former").Select(e => e.ErrorCode), Is.EqualTo(new[] { "Console.CertificateRevoked" }), "the refusal is in the node's admin audit log");
    }

    private Task<IBrowserContext> PersonWithAsync((string Cert, string Key) certificate) => Browser.PersonWithCertificateAsync(Chromium, Node.ConsoleAddress, certificate);

    /// <summary>An auditor certificate of the node's member, issued by the registry from a CSR made here (as `xbus audit keygen` would).</summary>
    private async Task<(string Cert, string Key)> IssueAuditorAsync(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = Path.Combine(Bus.Registry.Root, name + ".csr.pem");
        var (cert, keyFile) = (Path.Combine(Bus.Registry.Root, name + ".pem"), Path.Combine(Bus.Registry.Root, name + ".key.pem"));
        await File.WriteAllTextAsync(csr, new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        await Xbus.MustAsync(Bus.Registry.Root, "registry", "auditor", "issue", "--csr", csr, "--name", name, "--member", ConsoleBus.Transport, "--out", cert, "--data", Bus.Registry.Data);
        return (cert, keyFile);
    }

    private Task BindAsync(string name, string role, string certificate) =>
        Xbus.MustWithInputAsync(Bus.Registry.Root, ConsoleRegistry.Password, "node", "user", "add", name, "--role", role, "--certificate", certificate, "--data", Node.Data);

    private IReadOnlyList<ExchangeBus.Core.AdminAudit.AdminAuditEntry> Logins(string account) =>
        NodeAdminDatabase.Open(new NodePaths(Node.Data)).Accounts(TimeProvider.System).Query(0, 1000, actor: "console:" + account, action: "console.login");
}
