// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Tests.Audit;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Trust;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.WebConsole;

/// <summary>
/// The node's check of a certificate offered for a console login, with certificates a real
/// registry issued and its real OCSP responder: the configuration's CAs at the check's clock,
/// a person's certificate only, and the responder's word on revocation; then the login each
/// status gives, with its code and its entry in the node's admin audit log.
/// </summary>
[NonParallelizable]
public sealed class NodeConsoleCertificatesTests
{
    private const string Password = "correct horse battery staple";

    private BusFixture _bus = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _bus = await BusFixture.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _bus.DisposeAsync();

    private NodeServer Node => _bus.ProviderNode;

    private AuditedAccountStore Accounts => Node.Services.GetRequiredService<AuditedAccountStore>();

    [Test]
    public async Task AuditorCertificate_OfThisInstance_BoundToAnAccount_SignsInAsThatAccount()
    {
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Nguyễn Thị Thu");
        Bind("thu", auditor);

        Assert.That(await Check(auditor), Is.EqualTo(ConsoleCertificateStatus.Accepted));
        var result = await SignIn(auditor);
        Assert.That(result.Account?.Name, Is.EqualTo("thu"));
        Assert.That(result.Account!.Roles, Is.EquivalentTo(new[] { ConsoleRole.Auditor }), "the roles are the account's");
    }

    [Test]
    public async Task AdministratorCertificate_TheRegistryIssued_IsAccepted()
    {
        using var admin = PemFiles.ReadCertificate(Path.Combine(_bus.Root, "registry", RegistryKeys.Folder, DevelopmentPki.AdministratorCertificateFile));

        Assert.That(await Check(admin), Is.EqualTo(ConsoleCertificateStatus.Accepted));
    }

    [Test]
    public async Task CertificateOfAnotherCa_ShapedAsAnAuditors_IsRefusedAndNotAudited()
    {
        using var foreign = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Elsewhere", "Root CA"), TimeProvider.System);
        using var key = EcKeys.GenerateP256();
        using var stranger = foreign.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.MemberAuditor("VN", "GOV", "000.00.00.H01", "Kẻ Lạ"),
            PublicKey = new PublicKey(key),
            Profile = CertificateProfile.Auditor,
        });
        Bind("stranger", stranger);
        var before = AuditEntries();

        Assert.That(await Check(stranger), Is.EqualTo(ConsoleCertificateStatus.Untrusted));
        Assert.That((await SignIn(stranger)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRefused));
        Assert.That(AuditEntries(), Is.EqualTo(before), "a stranger's certificate is only logged, so strangers cannot fill the audit log");
    }

    [Test]
    public async Task NodeAuthenticationCertificate_ChainsToTheCa_ButIsNoPersons()
    {
        Assert.That(await Check(_bus.ClientNode.Keys.Authentication), Is.EqualTo(ConsoleCertificateStatus.Untrusted));
    }

    [Test]
    public async Task AuditorCertificate_AfterItsEnd_IsRefused()
    {
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Trần Văn Hải");
        Bind("hai", auditor);

        // The day after its end, on the check's own clock: the running node's stays as it is.
        var later = new FakeTimeProvider(new DateTimeOffset(auditor.NotAfter.ToUniversalTime()).AddDays(1));

        Assert.That(await Check(auditor, later), Is.EqualTo(ConsoleCertificateStatus.Untrusted));
        Assert.That((await SignIn(auditor, later)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRefused));
    }

    [Test]
    public async Task RevokedAuditorCertificate_IsRefusedThoughBound_AndTheRefusalIsAudited()
    {
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Phạm Minh Đức");
        Bind("duc", auditor);
        using (var admin = _bus.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).RevokeCertificateAsync(
                new RevokeCertificateRequest { SerialNumber = auditor.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;
        }

        Assert.That(await Check(auditor), Is.EqualTo(ConsoleCertificateStatus.Revoked));
        Assert.That((await SignIn(auditor)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateRevoked));
        var refusal = Accounts.Query(0, 1000, ConsoleAccount.Actor("duc"), "console.login").Single();
        Assert.That((refusal.Accepted, refusal.ErrorCode), Is.EqualTo((false, ConsoleErrors.CertificateRevoked)));
        Assert.That(Accounts.Verify().Valid, Is.True);
    }

    [Test]
    public async Task AuditorCertificate_NoAccountIsBoundTo_IsRefusedNotBound_UnderItsSubject()
    {
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Lê Văn Nam");

        Assert.That(await Check(auditor), Is.EqualTo(ConsoleCertificateStatus.Accepted));
        Assert.That((await SignIn(auditor)).ErrorCode, Is.EqualTo(ConsoleErrors.CertificateNotBound));
        Assert.That(Accounts.Query(0, 1000, auditor.Subject, "console.login").Select(e => e.ErrorCode), Is.EqualTo(new[] { ConsoleErrors.CertificateNotBound }));
    }

    private NodeConsoleCertificates CheckOn(TimeProvider clock) =>
        new(Node.Node, Node.Configuration, Node.Services.GetRequiredService<PeerCertificateStatus>(), clock);

    private Task<ConsoleCertificateStatus> Check(X509Certificate2 certificate, TimeProvider? clock = null) =>
        CheckOn(clock ?? TimeProvider.System).CheckAsync(certificate, CancellationToken.None).AsTask();

    private Task<ExchangeBus.WebConsole.Accounts.SignInResult> SignIn(X509Certificate2 certificate, TimeProvider? clock = null)
    {
        var time = clock ?? TimeProvider.System;
        return new ConsoleCertificateSignIn(Accounts, CheckOn(time), time, NullLogger<ConsoleCertificateSignIn>.Instance)
            .SignInAsync(certificate, "test", CancellationToken.None);
    }

    private void Bind(string name, X509Certificate2 certificate) => Accounts.Add("cli:test",
        new ConsoleAccount(name, new HashSet<ConsoleRole> { ConsoleRole.Auditor }, ConsolePasswords.Hash(Password), 0, null, ConsoleAccount.Fingerprint(certificate)));

    private int AuditEntries() => Accounts.Query(0, 10_000).Count;
}
