// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Registry.Tests.TrustServices;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// Issue 15, items 2 and 4: the certificates of the central authority's own people and services
/// (administrators, the OCSP responder, the TSA) are recorded, revocable, answered for by OCSP
/// as openssl asks, and a revoked one loses what it was trusted for. Real sockets, a real registry.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class CentralCertificateRevocationTests(StorageEngine engine) : OnEachEngine(engine)
{
    private RegistryFixture _registry = null!;
    private string _work = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync();
        _work = Directory.CreateTempSubdirectory("xbus-central-").FullName;
        foreach (var file in new[] { DevelopmentPki.RootCertificateFile, DevelopmentPki.AdministratorCertificateFile, DevelopmentPki.OcspCertificateFile, DevelopmentPki.TimeStampingCertificateFile })
        {
            File.Copy(Path.Combine(_registry.KeysDirectory, file), Path.Combine(_work, file));
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public async Task InitAdministrator_RecordedGood_RevokedThenRefusedOnTheNextCall()
    {
        using var admin = PemFiles.ReadCertificate(Path.Combine(_registry.KeysDirectory, DevelopmentPki.AdministratorCertificateFile));
        var listed = _registry.Store.ListCertificates().SingleOrDefault(c => c.SerialNumber == RegistryStoreSerial(admin));
        Assert.That(listed?.Profile, Is.EqualTo("Administrator"), "the administrator certificate `registry init` uses is recorded");
        Assert.That((await AskOcspAsync(DevelopmentPki.AdministratorCertificateFile)).All, Does.Contain(": good"));

        using var channel = _registry.AdminChannel();
        var management = new RegistryManagement.RegistryManagementClient(channel);
        var outcome = await management.RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = admin.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;

        var revoked = await AskOcspAsync(DevelopmentPki.AdministratorCertificateFile);
        Assert.That(revoked.All, Does.Contain(": revoked"));
        Assert.That(revoked.All, Does.Contain("Reason: keyCompromise"));

        // The same TLS connection, the next call: refused, coded, with a correlation id, and audited.
        var refused = await Assert.ThrowsAsync<RpcException>(() => management.ListMembersAsync(new ListMembersRequest()).ResponseAsync);
        Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.CertificateRevoked)));
        Assert.That(refused.CorrelationId, Is.Not.Empty);
        var change = _registry.Store.QueryAuditLog((long)outcome.AuditSequence - 1, 1, null, null).Single();
        Assert.That((change.Action, change.Accepted), Is.EqualTo(("certificate.revoke", true)));
        Assert.That(change.After, Does.Contain("Administrator"));
        var refusal = _registry.Store.QueryAuditLog((long)outcome.AuditSequence, 10, null, null).Single();
        Assert.That((refusal.Accepted, refusal.ErrorCode, refusal.Action), Is.EqualTo((false, RegistryErrors.CertificateRevoked, "management.ListMembers")));
    }

    [Test]
    public async Task IssuedAdministrator_RecordedAuditedAndWorks_UntilRevoked()
    {
        using var key = EcKeys.GenerateP256();
        using var channel = _registry.AdminChannel();
        var response = await new RegistryManagement.RegistryManagementClient(channel).IssueAdministratorCertificateAsync(new IssueAdministratorCertificateRequest
        {
            Csr = ByteString.CopyFrom(CertificateSigningRequests.Create(new X500DistinguishedName("CN=ignored"), key)),
            Name = "Lê Văn Cường",
        }).ResponseAsync;
        using var issued = X509CertificateLoader.LoadCertificate(response.Certificate.Span);
        using var second = issued.CopyWithPrivateKey(key);

        Assert.That(second.Subject, Does.Contain("OU=Administrators").And.Contain("CN=Lê Văn Cường"));
        var entry = _registry.Store.QueryAuditLog((long)response.AuditSequence - 1, 1, null, null).Single();
        Assert.That((entry.Action, entry.Accepted), Is.EqualTo(("administrator.issue", true)));
        Assert.That(entry.After, Does.Contain(RegistryStoreSerial(second)));
        using var asSecond = _registry.Channel(second);
        var management = new RegistryManagement.RegistryManagementClient(asSecond);
        Assert.That((await management.ListCertificatesAsync(new ListCertificatesRequest()).ResponseAsync).Certificates.Single(c => c.SerialNumber == RegistryStoreSerial(second)).Profile,
            Is.EqualTo("Administrator"));

        await new RegistryManagement.RegistryManagementClient(channel).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = second.SerialNumber }).ResponseAsync;

        var refused = await Assert.ThrowsAsync<RpcException>(() => management.AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync);
        Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.CertificateRevoked)));
    }

    [Test]
    public async Task AdministratorCertificateMadeOutsideTheRegistry_Refused()
    {
        // What `xbus pki issue --profile Administrator` makes with the CA's key: valid, but
        // unrecorded, so nobody could revoke it.
        using var key = EcKeys.GenerateP256();
        using var authority = CertificateAuthority.Load(Path.Combine(_registry.KeysDirectory, DevelopmentPki.RootCertificateFile),
            Path.Combine(_registry.KeysDirectory, DevelopmentPki.RootKeyFile), TimeProvider.System);
        using var made = authority.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.Person("VN", "ExchangeBus Development", "Administrators", "Outsider"),
            PublicKey = new System.Security.Cryptography.X509Certificates.PublicKey(key),
            Profile = CertificateProfile.Administrator,
        });
        using var outsider = made.CopyWithPrivateKey(key);
        using var channel = _registry.Channel(outsider);

        var refused = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(channel).ListMembersAsync(new ListMembersRequest()).ResponseAsync);

        Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.NotAdministrator)));
        Assert.That(refused.CorrelationId, Is.Not.Empty);
    }

    [Test]
    public async Task RegistryFromBefore_KeySetCertificatesRecordedAtStart_OnceAndAudited()
    {
        // A registry database made before administrator, OCSP and TSA certificates were recorded.
        var data = _registry.Directory;
        await _registry.Server.DisposeAsync();
        Assert.That(_registry.ExecuteSql("DELETE FROM certificates WHERE profile IN ('Administrator', 'OcspSigning', 'TimeStamping')"), Is.EqualTo(3));

        await using var restarted = await Hosting.RegistryServer.StartAsync(new Hosting.RegistryServerOptions
        {
            DataDirectory = data, Postgres = _registry.Postgres, GrpcListen = "127.0.0.1:0", HttpListen = "127.0.0.1:0",
        });

        var recorded = restarted.Store.QueryAuditLog(0, 1000, "registry", "certificate.record");
        Assert.That(recorded.Select(e => e.After), Has.Some.Contains("\"Administrator\"").And.Some.Contains("\"OcspSigning\"").And.Some.Contains("\"TimeStamping\""));
        Assert.That(restarted.Store.RecordKeySetCertificates(), Is.Zero, "a recorded certificate is not recorded again");
        using var admin = Management.AdministratorChannel.Open(restarted.GrpcAddress, _registry.KeysDirectory, TimeProvider.System);
        Assert.That((await new RegistryManagement.RegistryManagementClient(admin).ListMembersAsync(new ListMembersRequest()).ResponseAsync).Members, Is.Empty);
    }

    [Test]
    public async Task OcspResponderCertificate_Revoked_OcspSaysSo_AndTheConfigurationNoLongerTrustsIt()
    {
        using var ocsp = PemFiles.ReadCertificate(Path.Combine(_registry.KeysDirectory, DevelopmentPki.OcspCertificateFile));
        Assert.That((await AskOcspAsync(DevelopmentPki.OcspCertificateFile)).All, Does.Contain(": good"));
        Assert.That(_registry.Store.CurrentView()!.CertificateAuthorities.Single().OcspCertificate?.RawData, Is.EqualTo(ocsp.RawData));

        using var channel = _registry.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(channel).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = ocsp.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;

        Assert.That((await AskOcspAsync(DevelopmentPki.OcspCertificateFile)).All, Does.Contain(": revoked"));
        Assert.That(_registry.Store.CurrentView()!.CertificateAuthorities.Single().OcspCertificate, Is.Null,
            "the next configuration lists no delegated responder: nodes accept only responses the CA signs itself");
    }

    [Test]
    public async Task TimeStampingCertificate_Revoked_OcspSaysSo_AndTheConfigurationNoLongerListsIt()
    {
        using var tsa = PemFiles.ReadCertificate(Path.Combine(_registry.KeysDirectory, DevelopmentPki.TimeStampingCertificateFile));
        Assert.That((await AskOcspAsync(DevelopmentPki.TimeStampingCertificateFile)).All, Does.Contain(": good"));
        Assert.That(_registry.Store.CurrentView()!.TimeStampingAuthorities.Single().Certificate.RawData, Is.EqualTo(tsa.RawData));

        using var channel = _registry.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(channel).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = tsa.SerialNumber, Reason = "cessationOfOperation" }).ResponseAsync;

        Assert.That((await AskOcspAsync(DevelopmentPki.TimeStampingCertificateFile)).All, Does.Contain(": revoked"));
        Assert.That(_registry.Store.CurrentView()!.TimeStampingAuthorities, Is.Empty);
    }

    /// <summary>openssl asks the registry's responder about a certificate in the work folder, verifying the answer against the root.</summary>
    private async Task<OpenSslResult> AskOcspAsync(string certificateFile) => await OpenSsl.RunOkAsync(
        _work, "ocsp", "-issuer", DevelopmentPki.RootCertificateFile, "-cert", certificateFile, "-url", _registry.Server.HttpAddress + "/ocsp",
        "-CAfile", DevelopmentPki.RootCertificateFile, "-resp_text");

    private static string RegistryStoreSerial(X509Certificate2 certificate) =>
        global::ExchangeBus.Registry.TrustServices.CertificateStatusInfo.NormaliseSerialNumber(certificate.SerialNumber);
}
