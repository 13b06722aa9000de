// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Registry.Tests.TrustServices;
using Google.Protobuf;

namespace ExchangeBus.Registry.Tests;

/// <summary>IssueAuditorCertificate over real mutual TLS: the registry names the auditor, records it, and answers OCSP for it.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class AuditorCertificateTests(StorageEngine engine) : OnEachEngine(engine)
{
    private const string Member = "VN/GOV/000.00.00.H01";

    private RegistryFixture _registry = null!;
    private GrpcChannel _admin = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync();
        _admin = _registry.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = Member, Name = "Ministry of Public Security" }).ResponseAsync;
    }

    [TearDown]
    public async Task TearDown()
    {
        _admin.Dispose();
        await _registry.DisposeAsync();
    }

    [Test]
    public async Task MemberAuditor_SubjectSetByRegistry_ValidListedAndAudited()
    {
        using var key = EcKeys.GenerateP256();
        var csr = CertificateSigningRequests.Create(CertificateNames.NodeAuthentication("VN", "GOV", "000.00.00.H01", "ss1"), key);
        var versionBefore = _registry.Store.CurrentConfiguration().Version;

        var response = await new RegistryManagement.RegistryManagementClient(_admin).IssueAuditorCertificateAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFrom(csr), Member = Member, Name = "Nguyễn Văn An" }).ResponseAsync;

        using var certificate = X509CertificateLoader.LoadCertificate(response.Certificate.Span);
        Assert.That(certificate.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(key.ExportSubjectPublicKeyInfo()));
        Assert.That(CertificateNames.ReadNodeAuthentication(certificate.SubjectName), Is.Null, "the CSR's subject must not be taken");
        var identity = AuditorIdentity.TryRead(certificate);
        Assert.That(identity, Is.Not.Null);
        Assert.That((identity!.Scope, identity.Member, identity.Name), Is.EqualTo((AuditorScope.Member, MemberId.Parse(Member), "Nguyễn Văn An")));
        using var validator = new CertificateChainValidator([_registry.Root], TimeProvider.System);
        Assert.That(validator.Validate(certificate, CertificateProfile.Auditor).IsValid, Is.True);
        Assert.That(validator.Validate(certificate, CertificateProfile.NationalAuditor).Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));

        var listed = _registry.Store.ListCertificates().Single(c => c.SerialNumber == certificate.SerialNumber);
        Assert.That((listed.Profile, listed.Subject, listed.Revoked), Is.EqualTo(("Auditor", certificate.Subject, false)));
        var entry = _registry.Store.QueryAuditLog((long)response.AuditSequence - 1, 1, null, null).Single();
        Assert.That((entry.Action, entry.Accepted), Is.EqualTo(("auditor.issue", true)));
        Assert.That(entry.Actor, Does.Contain("OU=Administrators"));
        Assert.That(entry.After, Does.Contain(certificate.SerialNumber));
        Assert.That(_registry.Store.CurrentConfiguration().Version, Is.EqualTo(versionBefore), "issuing an auditor changes no configuration");
    }

    [Test]
    public async Task NationalAuditor_EmptyMember()
    {
        using var certificate = await TestAuditors.IssueAsync(_admin, string.Empty, "Trần Thị Bình");

        var identity = AuditorIdentity.TryRead(certificate);
        Assert.That(identity, Is.Not.Null);
        Assert.That((identity!.Scope, identity.Instance, identity.Name), Is.EqualTo((AuditorScope.National, "VN", "Trần Thị Bình")));
        using var validator = new CertificateChainValidator([_registry.Root], TimeProvider.System);
        Assert.That(validator.Validate(certificate, CertificateProfile.NationalAuditor).IsValid, Is.True);
        Assert.That(_registry.Store.ListCertificates().Single(c => c.SerialNumber == certificate.SerialNumber).Profile, Is.EqualTo("NationalAuditor"));
    }

    [Test]
    public async Task Ocsp_GoodThenRevoked()
    {
        using var certificate = await TestAuditors.IssueAsync(_admin, Member, "An");
        using var http = new HttpClient();
        using var root = X509CertificateLoader.LoadCertificate(_registry.Root.RawData);

        var good = await AskOcspAsync(http, certificate, root);
        Assert.That(good, Is.EqualTo(OcspCertificateStatus.Good));

        await new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = certificate.SerialNumber, Reason = "affiliationChanged" }).ResponseAsync;

        Assert.That(await AskOcspAsync(http, certificate, root), Is.EqualTo(OcspCertificateStatus.Revoked));
    }

    [Test]
    public async Task OpensslCsr_Issued()
    {
        var work = Directory.CreateTempSubdirectory("xbus-auditor-").FullName;
        try
        {
            await OpenSsl.RunOkAsync(work, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "a.key", "-subj", "/CN=An", "-outform", "DER", "-out", "a.csr");

            var response = await new RegistryManagement.RegistryManagementClient(_admin).IssueAuditorCertificateAsync(new IssueAuditorCertificateRequest
            {
                Csr = ByteString.CopyFrom(await File.ReadAllBytesAsync(Path.Combine(work, "a.csr"))),
                Member = Member,
                Name = "An",
                ValidityDays = 30,
            }).ResponseAsync;

            using var certificate = X509CertificateLoader.LoadCertificate(response.Certificate.Span);
            Assert.That(certificate.NotAfter.ToUniversalTime(), Is.LessThan(DateTime.UtcNow.AddDays(31)));
            Assert.That(certificate.NotAfter.ToUniversalTime(), Is.GreaterThan(DateTime.UtcNow.AddDays(29)));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestCase("VN/GOV/nobody", "An", RegistryErrors.UnknownMember, StatusCode.NotFound)]
    [TestCase("EE/GOV/000.00.00.H01", "An", RegistryErrors.WrongInstance, StatusCode.InvalidArgument)]
    [TestCase("VN/GOV", "An", RegistryErrors.InvalidIdentifier, StatusCode.InvalidArgument)]
    [TestCase(Member, "", RegistryErrors.InvalidArgument, StatusCode.InvalidArgument)]
    [TestCase(Member, " An", RegistryErrors.InvalidArgument, StatusCode.InvalidArgument)]
    [TestCase(Member, "An\u0000", RegistryErrors.InvalidArgument, StatusCode.InvalidArgument)]
    [TestCase("", "This name is far longer than the sixty-four characters X.520 allows for it", RegistryErrors.InvalidArgument, StatusCode.InvalidArgument)]
    public async Task BadRequest_RefusedNothingIssuedAndAudited(string member, string name, string code, StatusCode status)
    {
        using var key = EcKeys.GenerateP256();
        await AssertRefusedAsync(new IssueAuditorCertificateRequest
        {
            Csr = ByteString.CopyFrom(CertificateSigningRequests.Create(new X500DistinguishedName("CN=x"), key)),
            Member = member,
            Name = name,
        }, code, status);
    }

    [Test]
    public async Task TooLongValidity_Refused()
    {
        using var key = EcKeys.GenerateP256();
        await AssertRefusedAsync(new IssueAuditorCertificateRequest
        {
            Csr = ByteString.CopyFrom(CertificateSigningRequests.Create(new X500DistinguishedName("CN=x"), key)),
            Member = Member,
            Name = "An",
            ValidityDays = 3651,
        }, RegistryErrors.InvalidArgument, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task GarbageCsr_InvalidCsr() =>
        await AssertRefusedAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFromUtf8("not a CSR"), Member = Member, Name = "An" },
            RegistryErrors.InvalidCsr, StatusCode.InvalidArgument);

    [Test]
    public async Task CsrWithBrokenSelfSignature_InvalidCsr()
    {
        using var key = EcKeys.GenerateP256();
        var csr = CertificateSigningRequests.Create(new X500DistinguishedName("CN=x"), key);
        csr[^3] ^= 0x01;
        await AssertRefusedAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFrom(csr), Member = Member, Name = "An" },
            RegistryErrors.InvalidCsr, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task P384Csr_WrongKeyType()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        var csr = new CertificateRequest(new X500DistinguishedName("CN=x"), key, System.Security.Cryptography.HashAlgorithmName.SHA384).CreateSigningRequest();
        await AssertRefusedAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFrom(csr), Member = Member, Name = "An" },
            RegistryErrors.WrongKeyType, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task AuditorCannotIssueAuditors()
    {
        using var auditor = await TestAuditors.IssueAsync(_admin, string.Empty, "An");
        using var channel = _registry.Channel(auditor);

        var ex = await Assert.ThrowsAsync<RpcException>(() => TestAuditors.IssueAsync(channel, string.Empty, "Mallory"));

        Assert.That((ex!.StatusCode, ex.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.NotAdministrator)));
    }

    private async Task<OcspCertificateStatus?> AskOcspAsync(HttpClient http, X509Certificate2 certificate, X509Certificate2 issuer)
    {
        var client = new OcspClient(http, new Uri(_registry.Server.HttpAddress + "/ocsp"), new OcspResponseVerifier(TimeProvider.System));
        var result = await client.CheckAsync(certificate, issuer);
        Assert.That(result.IsValid, Is.True, result.ToString());
        return result.Status;
    }

    private async Task AssertRefusedAsync(IssueAuditorCertificateRequest request, string code, StatusCode status)
    {
        var certificates = _registry.Store.ListCertificates().Count;

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(_admin).IssueAuditorCertificateAsync(request).ResponseAsync);

        Assert.That(ex!.ErrorCode, Is.EqualTo(code), ex.Status.Detail);
        Assert.That(ex.StatusCode, Is.EqualTo(status));
        Assert.That(ex.CorrelationId, Is.Not.Empty);
        Assert.That(_registry.Store.ListCertificates(), Has.Count.EqualTo(certificates));
        var last = _registry.Store.QueryAuditLog(0, 1000, null, null)[^1];
        Assert.That((last.Action, last.Accepted, last.ErrorCode), Is.EqualTo(("auditor.issue", false, code)));
    }
}
