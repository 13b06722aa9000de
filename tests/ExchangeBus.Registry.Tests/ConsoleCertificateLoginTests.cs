// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// A console account bound to a client certificate in the registry's database, and the registry's check of
/// a certificate offered for a login: bound, unbound, foreign, revoked, expired, locked, each
/// with its code and audit entry.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class ConsoleCertificateLoginTests(StorageEngine engine) : OnEachEngine(engine)
{
    private const string Password = "correct horse battery staple";

    [Test]
    public async Task CertificateLogin_EachCaseAnswersItsCode_AndRefusalsOfTheBussCertificatesAreAudited()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var registry = await StartRegistryAsync(timeProvider: clock);
        using var admin = PemFiles.ReadCertificate(Path.Combine(registry.KeysDirectory, DevelopmentPki.AdministratorCertificateFile));
        var fingerprint = ConsoleAccount.Fingerprint(admin);
        registry.Store.Add("cli:test", Account("hung", fingerprint));
        using var validator = new CertificateChainValidator([registry.Root], clock);
        var signIn = new ConsoleCertificateSignIn(registry.Store, new RegistryConsoleCertificates(validator, registry.Store), clock,
            NullLogger<ConsoleCertificateSignIn>.Instance);

        Assert.That(registry.Store.FindAccountByCertificate(fingerprint)?.Name, Is.EqualTo("hung"), "the binding is found by the fingerprint");
        Assert.That(registry.Store.FindAccount("hung")!.CertificateSha256, Is.EqualTo(fingerprint));
        Assert.That(registry.Store.FindAccountByCertificate(new string('0', 64)), Is.Null);

        var accepted = await signIn.SignInAsync(admin, "t1", CancellationToken.None);
        Assert.That(accepted.Account?.Name, Is.EqualTo("hung"));
        Assert.That(accepted.Account!.Roles, Is.EquivalentTo(new[] { ConsoleRole.SecurityOfficer }), "the role comes from the account");

        using var stranger = SelfSigned();
        Assert.That((await signIn.SignInAsync(stranger, "t2", CancellationToken.None)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRefused));
        Assert.That((await signIn.SignInAsync(null, "t3", CancellationToken.None)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRefused));

        var locked = registry.Store.RecordFailedLogin("hung", ConsoleErrors.LoginFailed, 1, clock.GetUtcNow().AddMinutes(15));
        Assert.That(locked!.IsLockedAt(clock.GetUtcNow()), Is.True);
        Assert.That((await signIn.SignInAsync(admin, "t4", CancellationToken.None)).ErrorCode, Is.EqualTo(ConsoleErrors.LockedOut), "lockout applies to a certificate too");
        clock.Advance(TimeSpan.FromMinutes(16));

        registry.Store.RevokeCertificate("test", admin.SerialNumber, "keyCompromise");
        Assert.That((await signIn.SignInAsync(admin, "t5", CancellationToken.None)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRevoked));

        var entries = registry.Store.QueryAuditLog(0, 100, "console:hung", "console.login");
        Assert.That(entries.Select(e => (e.Accepted, e.ErrorCode)), Is.EqualTo(new[]
        {
            (true, string.Empty), (false, ConsoleErrors.LoginFailed), (false, ConsoleErrors.LockedOut), (false, ConsoleErrors.CertificateRevoked),
        }));
        Assert.That(registry.Store.QueryAuditLog(0, 100, stranger.Subject, null), Is.Empty, "a stranger's certificate is not stored");
        Assert.That(registry.Store.VerifyAuditLog().Valid, Is.True);
    }

    [Test]
    public async Task CertificateLogin_AfterTheCertificateExpires_IsRefused()
    {
        await using var registry = await StartRegistryAsync();
        using var admin = PemFiles.ReadCertificate(Path.Combine(registry.KeysDirectory, DevelopmentPki.AdministratorCertificateFile));
        registry.Store.Add("cli:test", Account("hung", ConsoleAccount.Fingerprint(admin)));

        // The day after the certificate's end, for the check alone: moving the running registry's
        // own clock two years on would fire every one of its periodic timers for each period missed.
        var later = new FakeTimeProvider(new DateTimeOffset(admin.NotAfter.ToUniversalTime()).AddDays(1));
        using var validator = new CertificateChainValidator([registry.Root], later);
        var signIn = new ConsoleCertificateSignIn(registry.Store, new RegistryConsoleCertificates(validator, registry.Store), later,
            NullLogger<ConsoleCertificateSignIn>.Instance);

        Assert.That((await signIn.SignInAsync(admin, "t1", CancellationToken.None)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRefused));
    }

    [Test]
    public async Task Add_ACertificateAlreadyBound_IsRefusedWithItsCode()
    {
        await using var registry = await StartRegistryAsync();
        registry.Store.Add("cli:test", Account("hung", "AB"));

        var taken = Assert.Throws<ConsoleAccountException>(() => registry.Store.Add("cli:test", Account("lan", "AB")));

        Assert.That(taken!.Code, Is.EqualTo(ConsoleErrors.CertificateInUse));
        Assert.That(registry.Store.FindAccount("lan"), Is.Null);
        registry.Store.Add("cli:test", Account("mai", null));
        registry.Store.Add("cli:test", Account("hoa", null));
        Assert.That(registry.Store.FindAccount("hoa")!.CertificateSha256, Is.Null, "accounts without a certificate do not collide");
    }

    private static ConsoleAccount Account(string name, string? certificateSha256) =>
        new(name, new HashSet<ConsoleRole> { ConsoleRole.SecurityOfficer }, ConsolePasswords.Hash(Password), 0, null, certificateSha256);

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Central Authority Administrator", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }
}
