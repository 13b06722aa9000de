// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Registry.Tests.TrustServices;
using Google.Protobuf;

namespace ExchangeBus.Registry.Tests;

/// <summary>A node joining: CSRs, proof of possession, the authority's decision, certificates.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class RegistrationTests(StorageEngine engine) : OnEachEngine(engine)
{
    private static readonly NodeId Node = NodeId.Parse("VN/GOV/000.00.00.H01/ss1");

    private RegistryFixture _registry = null!;
    private GrpcChannel _admin = null!;
    private GrpcChannel _anonymous = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync();
        _admin = _registry.AdminChannel();
        _anonymous = _registry.Channel(null);
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.H01", Name = "Ministry of Public Security" }).ResponseAsync;
    }

    [TearDown]
    public async Task TearDown()
    {
        _admin.Dispose();
        _anonymous.Dispose();
        await _registry.DisposeAsync();
    }

    private Task<RegistrationStatus> Submit(SignedRegistrationRequest request) =>
        new RegistryService.RegistryServiceClient(_anonymous).SubmitRegistrationAsync(request).ResponseAsync;

    [Test]
    public async Task Submit_ThenApprove_IssuesBothCertificatesAndListsTheNode()
    {
        using var authKey = EcKeys.GenerateP256();
        using var signingKey = EcKeys.GenerateP256();
        var pending = await Submit(NodeRegistration.Create(Node, "127.0.0.1:5500", authKey, signingKey));
        Assert.That(pending.State, Is.EqualTo(RegistrationState.Pending));
        Assert.That(pending.AuthCertificate.IsEmpty, Is.True);

        var listed = await new RegistryManagement.RegistryManagementClient(_admin).ListRegistrationsAsync(new ListRegistrationsRequest { States = { RegistrationState.Pending } }).ResponseAsync;
        Assert.That(listed.Registrations.Single().RegistrationId, Is.EqualTo(pending.RegistrationId));

        var approved = await new RegistryManagement.RegistryManagementClient(_admin).ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = pending.RegistrationId }).ResponseAsync;
        Assert.That(approved.State, Is.EqualTo(RegistrationState.Approved));

        var fetched = await new RegistryService.RegistryServiceClient(_anonymous).GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = pending.RegistrationId }).ResponseAsync;
        using var auth = X509CertificateLoader.LoadCertificate(fetched.AuthCertificate.ToByteArray());
        using var signing = X509CertificateLoader.LoadCertificate(fetched.SigningCertificate.ToByteArray());
        Assert.That(auth.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(authKey.ExportSubjectPublicKeyInfo()));
        Assert.That(signing.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(signingKey.ExportSubjectPublicKeyInfo()));
        using var validator = new CertificateChainValidator([_registry.Root], TimeProvider.System);
        Assert.That(validator.Validate(auth, CertificateProfile.NodeAuthentication).IsValid, Is.True);
        Assert.That(validator.Validate(signing, CertificateProfile.MemberSigning).IsValid, Is.True);
        Assert.That(CertificateNames.ReadMemberSigning(signing.SubjectName), Is.EqualTo(new MemberSubject("VN", "GOV", "000.00.00.H01", null)));

        var configuration = GlobalConfiguration.Parser.ParseFrom(_registry.Store.CurrentConfiguration().Configuration!.Configuration);
        Assert.That(configuration.Version, Is.GreaterThanOrEqualTo(fetched.ConfigurationVersion));
        var node = configuration.Nodes.Single();
        Assert.That((node.NodeCode, node.Address), Is.EqualTo(("ss1", "127.0.0.1:5500")));
        Assert.That(node.AuthCertificateSha256.ToByteArray(), Is.EqualTo(SHA256.HashData(auth.RawData)));
    }

    [Test]
    public async Task AutoApprove_IssuesAtOnce()
    {
        await using var registry = await StartRegistryAsync(autoApprove: true);
        using var admin = registry.AdminChannel();
        using var anonymous = registry.Channel(null);
        await new RegistryManagement.RegistryManagementClient(admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.H01", Name = "MPS" }).ResponseAsync;
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        var status = await new RegistryService.RegistryServiceClient(anonymous).SubmitRegistrationAsync(NodeRegistration.Create(Node, "localhost:5500", a, s)).ResponseAsync;
        Assert.That(status.State, Is.EqualTo(RegistrationState.Approved));
        Assert.That(status.AuthCertificate.IsEmpty, Is.False);
    }

    [Test]
    public async Task Refuse_NoCertificatesNoNode()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        var pending = await Submit(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s));
        var refused = await new RegistryManagement.RegistryManagementClient(_admin).RefuseRegistrationAsync(new DecideRegistrationRequest { RegistrationId = pending.RegistrationId, Reason = "unknown server" }).ResponseAsync;
        Assert.That(refused.State, Is.EqualTo(RegistrationState.Refused));
        Assert.That(refused.AuthCertificate.IsEmpty, Is.True);
        Assert.That(_registry.Store.ListNodes(), Is.Empty);

        var again = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(_admin).ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = pending.RegistrationId }).ResponseAsync);
        Assert.That(again!.ErrorCode, Is.EqualTo(RegistryErrors.RegistrationNotPending));
    }

    [Test]
    public async Task SignedWithAnotherKey_Refused()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        using var other = EcKeys.GenerateP256();
        var genuine = NodeRegistration.Create(Node, "127.0.0.1:5500", a, s);
        var forged = NodeRegistration.Sign(RegistrationRequest.Parser.ParseFrom(genuine.Request), other);

        await AssertRefused(forged, RegistryErrors.BadRegistrationSignature, StatusCode.PermissionDenied);
    }

    [Test]
    public async Task SubjectNamingAnotherMember_Refused()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        var request = RegistrationRequest.Parser.ParseFrom(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s).Request);
        request.SigningCsr = ByteString.CopyFrom(CertificateSigningRequests.Create(CertificateNames.MemberSigning("VN", "GOV", "somebody-else"), s));

        await AssertRefused(NodeRegistration.Sign(request, a), RegistryErrors.CsrSubjectMismatch, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task UnknownMember_Refused()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        await AssertRefused(NodeRegistration.Create(NodeId.Parse("VN/GOV/nobody/ss1"), "127.0.0.1:5500", a, s), RegistryErrors.UnknownMember, StatusCode.NotFound);
    }

    [Test]
    public async Task RsaCsrMadeByOpenssl_RefusedAsWrongKeyType()
    {
        var dir = Directory.CreateTempSubdirectory("xbus-csr-").FullName;
        try
        {
            await OpenSsl.RunOkAsync(dir, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "r.der", "-outform", "DER",
                "-subj", "/DC=VN/O=GOV/CN=000.00.00.H01");
            using var a = EcKeys.GenerateP256();
            using var s = EcKeys.GenerateP256();
            var request = RegistrationRequest.Parser.ParseFrom(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s).Request);
            request.SigningCsr = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(dir, "r.der")));

            await AssertRefused(NodeRegistration.Sign(request, a), RegistryErrors.WrongKeyType, StatusCode.InvalidArgument);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task P256CsrMadeByOpenssl_Issued()
    {
        var dir = Directory.CreateTempSubdirectory("xbus-csr-").FullName;
        try
        {
            await OpenSsl.RunOkAsync(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem",
                "-out", "r.der", "-outform", "DER", "-subj", "/DC=VN/O=GOV/CN=000.00.00.H01");
            using var a = EcKeys.GenerateP256();
            using var s = EcKeys.GenerateP256();
            var request = RegistrationRequest.Parser.ParseFrom(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s).Request);
            request.SigningCsr = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(dir, "r.der")));
            var pending = await Submit(NodeRegistration.Sign(request, a));
            var approved = await new RegistryManagement.RegistryManagementClient(_admin).ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = pending.RegistrationId }).ResponseAsync;

            File.WriteAllText(Path.Combine(dir, "signing.pem"), new string(PemEncoding.Write("CERTIFICATE", approved.SigningCertificate.ToByteArray())));
            File.Copy(Path.Combine(_registry.KeysDirectory, DevelopmentPki.RootCertificateFile), Path.Combine(dir, "root.pem"));
            var verify = await OpenSsl.RunOkAsync(dir, "verify", "-CAfile", "root.pem", "signing.pem");
            Assert.That(verify.All, Does.Contain("signing.pem: OK"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase("no-port")]
    [TestCase("host:99999")]
    [TestCase("user@host:443")]
    [TestCase("host:443/path")]
    public async Task BadAddress_Refused(string address)
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        await AssertRefused(NodeRegistration.Create(Node, address, a, s), RegistryErrors.InvalidArgument, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task GarbageBytes_Refused()
    {
        var garbage = new SignedRegistrationRequest { Request = ByteString.CopyFrom(0xFF, 0xFF, 0xFF, 0x01), Signature = ByteString.CopyFrom(1) };
        await AssertRefused(garbage, RegistryErrors.InvalidArgument, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task SecondPendingForSameNode_Refused()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        await Submit(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s));
        await AssertRefused(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s), RegistryErrors.RegistrationPending, StatusCode.AlreadyExists);
    }

    [Test]
    public async Task Revoke_MarksCertificateAndIsAudited()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        var pending = await Submit(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s));
        var approved = await new RegistryManagement.RegistryManagementClient(_admin).ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = pending.RegistrationId }).ResponseAsync;
        using var signing = X509CertificateLoader.LoadCertificate(approved.SigningCertificate.ToByteArray());

        await new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = signing.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;

        var status = _registry.Store.FindCertificateStatus(signing.SerialNumber);
        Assert.That(status, Is.Not.Null);
        Assert.That(status!.Value.Revoked, Is.True);
        Assert.That(status.Value.Reason, Is.EqualTo(1));
        var again = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = signing.SerialNumber }).ResponseAsync);
        Assert.That(again!.ErrorCode, Is.EqualTo(RegistryErrors.AlreadyRevoked));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = "ABCDEF" }).ResponseAsync);
        Assert.That(unknown!.ErrorCode, Is.EqualTo(RegistryErrors.UnknownCertificate));
    }

    /// <summary>
    /// Issue 15, item 8: the registry writes the address a registrant claims into its node
    /// certificate; it must not certify one the registry itself or another node answers on.
    /// </summary>
    [Test]
    public async Task AnAddressTheRegistryOrAnotherNodeUses_RefusedWithAddressInUse_TheNodesOwnAgainIsFine()
    {
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        await AssertRefused(NodeRegistration.Create(Node, new Uri(_registry.Server.GrpcAddress).Authority, a, s), RegistryErrors.AddressInUse, StatusCode.AlreadyExists);

        var first = await Submit(NodeRegistration.Create(Node, "127.0.0.1:5500", a, s));
        await new RegistryManagement.RegistryManagementClient(_admin).ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = first.RegistrationId }).ResponseAsync;
        using var a2 = EcKeys.GenerateP256();
        using var s2 = EcKeys.GenerateP256();
        await AssertRefused(NodeRegistration.Create(NodeId.Parse("VN/GOV/000.00.00.H01/ss2"), "127.0.0.1:5500", a2, s2), RegistryErrors.AddressInUse, StatusCode.AlreadyExists);

        // The same node, registering again where it already is (new keys, say), is not another node.
        var again = await Submit(NodeRegistration.Create(Node, "127.0.0.1:5500", a2, s2));
        Assert.That(again.State, Is.EqualTo(RegistrationState.Pending));
    }

    private async Task AssertRefused(SignedRegistrationRequest request, string code, StatusCode status)
    {
        var before = _registry.Store.ListRegistrations([]).Count;
        var audited = _registry.Store.QueryAuditLog(0, 1000, null, null).Count;
        var ex = await Assert.ThrowsAsync<RpcException>(() => Submit(request));
        Assert.That(ex!.ErrorCode, Is.EqualTo(code), ex.Status.Detail);
        Assert.That(ex.StatusCode, Is.EqualTo(status));
        Assert.That(_registry.Store.ListRegistrations([]), Has.Count.EqualTo(before));

        // A stranger's refusal is counted and logged, not kept: anyone could fill the disk with them.
        Assert.That(_registry.Store.QueryAuditLog(0, 1000, null, null), Has.Count.EqualTo(audited));
    }
}
