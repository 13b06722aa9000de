// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Tests.Shared;
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
public sealed class ConsoleLoginSafetyTests : ConsoleRegistryFixture
{
    // Each a certificate and its key, PEM files: the administrator certificate `registry init` made (bound to an
    // account), one `registry admin issue` made and nobody bound, and one bound and then revoked.
    private (string Cert, string Key) _bound;
    private (string Cert, string Key) _unbound;
    private (string Cert, string Key) _revoked;

    private protected override Task<ConsoleRegistry> StartRegistryAsync() => ConsoleRegistry.StartAsync(("officer", "registration-officer"));

    private protected override async Task PrepareAsync()
    {
        var keys = Path.Combine(Registry.Data, "keys");
        _bound = (Path.Combine(keys, "admin.pem"), Path.Combine(keys, "admin.key.pem"));
        _unbound = await IssueAdministratorAsync("unbound");
        _revoked = await IssueAdministratorAsync("revoked");
        await AddBoundAccountAsync("hung", "security-officer", _bound.Cert);
        await AddBoundAccountAsync("former", "security-officer", _revoked.Cert);
        await RevokeAsync(_revoked.Cert);
    }

    [Test]
    public async Task CertificateLogin_BoundAdministratorCertificate_SignsInAsItsAccountWithItsRole()
    {
        await using var person = await PersonWithAsync(_bound);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");
        await Expect(page.Locator("#certificate-subject")).ToContainTextAsync("Administrator");

        await page.ClickAsync("#sign-in-certificate");

        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("hung");
        await Screenshots.TakeAsync(page, "login-certificate");

        // The account's role, not the certificate's: a security officer may not decide registrations.
        var forbidden = await page.GotoAsync("/Registrations/Decide");
        Assert.That(forbidden!.Status, Is.EqualTo(403));
    }

    [Test]
    public async Task CertificateSession_EndsAtOnce_WhenTheCertificateIsRevoked()
    {
        var certificate = await IssueAdministratorAsync("session");
        await AddBoundAccountAsync("thu", "auditor", certificate.Cert);
        await using var person = await PersonWithAsync(certificate);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");
        await page.ClickAsync("#sign-in-certificate");
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("thu");

        await RevokeAsync(certificate.Cert);

        await page.GotoAsync("/");
        Assert.That(page.Url, Does.Contain("/Login"), "the next request after the revocation is no longer signed in");
    }

    [Test]
    public async Task CertificateLogin_CertificateNoAccountIsBoundTo_IsRefused()
    {
        await using var person = await PersonWithAsync(_unbound);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");

        await page.ClickAsync("#sign-in-certificate");

        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.CertificateNotBound");
        Assert.That(page.Url, Does.Contain("/Login"));
    }

    [Test]
    public async Task CertificateLogin_RevokedCertificate_IsRefusedThoughAnAccountIsBoundToIt()
    {
        await using var person = await PersonWithAsync(_revoked);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");

        await page.ClickAsync("#sign-in-certificate");

        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.CertificateRevoked");
        var audit = await Xbus.MustAsync(Registry.Root, "registry", "audit-log", "query", "--actor", "console:former", "--action", "console.login", "--data", Registry.Data);
        Assert.That(audit, Does.Contain("Console.CertificateRevoked"), "the refusal is in the admin audit log");
    }

    [Test]
    public async Task PasswordLogin_WithoutACertificate_StillWorks_AndNoCertificateLoginIsOffered()
    {
        await using var person = await PersonAsync(Registry.ConsoleAddress);
        var page = await person.NewPageAsync();
        await page.GotoAsync("/Login");
        await Expect(page.Locator("#certificate-login")).ToHaveCountAsync(0);

        await Browser.SignInAsync(page, "officer", ConsoleRegistry.Password);

        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync("officer");
    }

    [Test]
    public async Task LoginAttempts_PastTheLimit_AreAnswered429TooManyAttemptsInThePersonsLanguage()
    {
        // One attempt a minute per address (and overall): the second is over the limit however fast the machine is.
        await using var registry = await ConsoleRegistry.StartAsync(
            new Dictionary<string, object> { ["loginAttemptsPerMinute"] = 1, ["loginAttemptsPerMinuteTotal"] = 1 }, autoApprove: false,
            ("officer", "registration-officer"));
        await using var person = await PersonAsync(registry.ConsoleAddress);
        var page = await person.NewPageAsync();

        await Browser.SignInAsync(page, "officer", "not the password at all");
        await Expect(page.Locator("#login-error")).ToHaveAttributeAsync("data-code", "Console.LoginFailed");

        var refused = await page.RunAndWaitForResponseAsync(() => Browser.SignInAsync(page, "officer", ConsoleRegistry.Password),
            r => r.Request.Method == "POST");
        Assert.That(refused.Status, Is.EqualTo(429));
        Assert.That(refused.Headers["content-security-policy"], Does.Contain("default-src 'none'"), "the console's headers on the limiter's answer too");
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

    private Task<IBrowserContext> PersonWithAsync((string Cert, string Key) certificate) => Browser.PersonWithCertificateAsync(Chromium, Registry.ConsoleAddress, certificate);

    /// <summary>An administrator certificate issued by the registry from a CSR made here (as `openssl req` would).</summary>
    private async Task<(string Cert, string Key)> IssueAdministratorAsync(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = Path.Combine(Registry.Root, name + ".csr.pem");
        var (cert, keyFile) = (Path.Combine(Registry.Root, name + ".pem"), Path.Combine(Registry.Root, name + ".key.pem"));
        await File.WriteAllTextAsync(csr, new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        await Xbus.MustAsync(Registry.Root, "registry", "admin", "issue", "--csr", csr, "--name", "Administrator " + name, "--out", cert, "--data", Registry.Data);
        return (cert, keyFile);
    }

    private async Task RevokeAsync(string certificateFile)
    {
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        await Xbus.MustAsync(Registry.Root, "registry", "cert", "revoke", certificate.SerialNumber, "--reason", "keyCompromise", "--data", Registry.Data);
    }

    private Task AddBoundAccountAsync(string name, string role, string certificate) =>
        Xbus.MustWithInputAsync(Registry.Root, ConsoleRegistry.Password, "registry", "user", "add", name, "--role", role, "--certificate", certificate, "--data", Registry.Data);
}
