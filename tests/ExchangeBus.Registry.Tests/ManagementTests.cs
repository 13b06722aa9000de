// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Registry.Tests.Infrastructure;

namespace ExchangeBus.Registry.Tests;

/// <summary>The management API over real mutual TLS, against a registry on a real SQLite file.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class ManagementTests(StorageEngine engine) : OnEachEngine(engine)
{
    private RegistryFixture _registry = null!;
    private GrpcChannel _admin = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync();
        _admin = _registry.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV", Description = "Government" }).ResponseAsync;
    }

    [TearDown]
    public async Task TearDown()
    {
        _admin.Dispose();
        await _registry.DisposeAsync();
    }

    [Test]
    public async Task AddMemberAndSubsystem_AppearInNextSignedConfiguration()
    {
        var before = _registry.Store.CurrentConfiguration().Version;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.H01", Name = "Ministry of Public Security" }).ResponseAsync;
        var result = await new RegistryManagement.RegistryManagementClient(_admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = "VN/GOV/000.00.00.H01/registry" }).ResponseAsync;

        Assert.That(result.ConfigurationVersion, Is.EqualTo(before + 2));
        var configuration = GlobalConfiguration.Parser.ParseFrom(_registry.Store.CurrentConfiguration().Configuration!.Configuration);
        var member = configuration.Members.Single(m => m.MemberCode == "000.00.00.H01");
        Assert.That(member.Name, Is.EqualTo("Ministry of Public Security"));
        Assert.That(member.Subsystems, Is.EqualTo(new[] { "registry" }));
    }

    [Test]
    public async Task DisableMember_LeavesConfigurationButStaysListed()
    {
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/G01", Name = "Transport" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).SetMemberEnabledAsync(new SetEnabledRequest { Id = "VN/GOV/G01", Enabled = false }).ResponseAsync;

        var configuration = GlobalConfiguration.Parser.ParseFrom(_registry.Store.CurrentConfiguration().Configuration!.Configuration);
        Assert.That(configuration.Members.Select(m => m.MemberCode), Does.Not.Contain("G01"));
        var listed = await new RegistryManagement.RegistryManagementClient(_admin).ListMembersAsync(new ListMembersRequest()).ResponseAsync;
        Assert.That(listed.Members.Single(m => m.Member == "VN/GOV/G01").Enabled, Is.False);
    }

    [TestCase("VN/GOV/000.00.00.H01", "Registry.DuplicateMember", StatusCode.AlreadyExists)]
    [TestCase("VN/COM/123", "Registry.UnknownMemberClass", StatusCode.NotFound)]
    [TestCase("EE/GOV/123", "Registry.WrongInstance", StatusCode.InvalidArgument)]
    [TestCase("VN/GOV/has space", "Registry.InvalidIdentifier", StatusCode.InvalidArgument)]
    [TestCase("VN/GOV", "Registry.InvalidIdentifier", StatusCode.InvalidArgument)]
    public async Task AddMember_BadInput_RefusedWithCodeNothingChangedAndAudited(string member, string code, StatusCode status)
    {
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.H01", Name = "MPS" }).ResponseAsync;
        var version = _registry.Store.CurrentConfiguration().Version;
        var members = _registry.Store.ListMembers().Count;

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = member, Name = "x" }).ResponseAsync);

        Assert.That(ex!.ErrorCode, Is.EqualTo(code));
        Assert.That(ex.StatusCode, Is.EqualTo(status));
        Assert.That(ex.CorrelationId, Is.Not.Empty);
        Assert.That(_registry.Store.CurrentConfiguration().Version, Is.EqualTo(version));
        Assert.That(_registry.Store.ListMembers(), Has.Count.EqualTo(members));
        var last = _registry.Store.QueryAuditLog(0, 1000, null, null)[^1];
        Assert.That(last.Accepted, Is.False);
        Assert.That(last.ErrorCode, Is.EqualTo(code));
        Assert.That(last.Action, Is.EqualTo("member.add"));
        Assert.That(last.After, Does.Contain(member));
    }

    [Test]
    public async Task AddSubsystem_UnknownMember_NotFound()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new RegistryManagement.RegistryManagementClient(_admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = "VN/GOV/nobody/sub" }).ResponseAsync);
        Assert.That(ex!.ErrorCode, Is.EqualTo(RegistryErrors.UnknownMember));
    }

    [Test]
    public async Task AnyTlsCaller_ReflectionListsTheRegistrysServices_AndHealthIsServing()
    {
        using var anonymous = _registry.Channel(null);

        Assert.That(await ExchangeBus.Tests.Shared.Reflection.ListServicesAsync(anonymous), Is.EqualTo(new[]
        {
            "exchangebus.registry.v1.RegistryManagement",
            "exchangebus.registry.v1.RegistryService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        }));
        var health = await new global::Grpc.Health.V1.Health.HealthClient(anonymous).CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest()).ResponseAsync;
        Assert.That(health.Status, Is.EqualTo(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task HttpListener_ServesNoGrpc()
    {
        using var http = new HttpClient();
        using var content = new ByteArrayContent(new byte[5]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        using var response = await http.PostAsync(new Uri(_registry.Server.HttpAddress + "/exchangebus.registry.v1.RegistryService/GetGlobalConfiguration"), content);
        Assert.That(response.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.NotFound));
    }

    [Test]
    public async Task CallerWithoutCertificate_RefusedNotAudited()
    {
        using var anonymous = _registry.Channel(null);
        var audited = _registry.Store.QueryAuditLog(0, 1000, null, null).Count;
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new RegistryManagement.RegistryManagementClient(anonymous).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/X", Name = "x" }).ResponseAsync);

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(ex.ErrorCode, Is.EqualTo(RegistryErrors.NotAdministrator));
        Assert.That(_registry.Store.ListMembers(), Is.Empty);

        // Anyone can call without a certificate, so such refusals are counted and logged, not kept.
        Assert.That(_registry.Store.QueryAuditLog(0, 1000, null, null), Has.Count.EqualTo(audited));
    }

    [Test]
    public async Task CallerWithNonAdministratorCertificate_PermissionDenied()
    {
        // A certificate from the same CA, but for a TSA: valid, trusted, and not an administrator's.
        using var tsa = PemFiles.ReadCertificate(Path.Combine(_registry.KeysDirectory, DevelopmentPki.TimeStampingCertificateFile));
        using var key = PemFiles.ReadPrivateKey(Path.Combine(_registry.KeysDirectory, DevelopmentPki.TimeStampingKeyFile));
        using var ca = ExchangeBus.Core.Pki.CertificateAuthority.Load(
            Path.Combine(_registry.KeysDirectory, DevelopmentPki.RootCertificateFile),
            Path.Combine(_registry.KeysDirectory, DevelopmentPki.RootKeyFile),
            TimeProvider.System);
        using var nodeKey = EcKeys.GenerateP256();
        using var node = ca.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.NodeAuthentication("VN", "GOV", "X", "n1"),
            PublicKey = new System.Security.Cryptography.X509Certificates.PublicKey(nodeKey),
            Profile = CertificateProfile.NodeAuthentication,
            DnsNames = ["localhost"],
        });
        using var channel = _registry.Channel(System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(node, nodeKey));

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new RegistryManagement.RegistryManagementClient(channel).ListMembersAsync(new ListMembersRequest()).ResponseAsync);

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.ErrorCode, Is.EqualTo(RegistryErrors.NotAdministrator));
        Assert.That(_registry.Store.QueryAuditLog(0, 1000, null, null)[^1].Actor, Does.Contain("CN=n1"));
    }

    [Test]
    public async Task GlobalGroups_MembersPublished()
    {
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/P01", Name = "Province 01" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = "VN/GOV/P01/one-stop" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddGlobalGroupAsync(new AddGlobalGroupRequest { Group = "VN/one-stop-shops", Description = "Provincial one-stop shops" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).SetGlobalGroupMemberAsync(new SetGlobalGroupMemberRequest { Group = "VN/one-stop-shops", Member = "VN/GOV/P01/one-stop", Present = true }).ResponseAsync;

        var configuration = GlobalConfiguration.Parser.ParseFrom(_registry.Store.CurrentConfiguration().Configuration!.Configuration);
        Assert.That(configuration.GlobalGroups.Single().Members, Is.EqualTo(new[] { "VN/GOV/P01/one-stop" }));

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(_admin).SetGlobalGroupMemberAsync(new SetGlobalGroupMemberRequest { Group = "VN/nope", Member = "VN/GOV/P01", Present = true }).ResponseAsync);
        Assert.That(ex!.ErrorCode, Is.EqualTo(RegistryErrors.UnknownGroup));
    }

    [Test]
    public async Task GetGlobalConfiguration_OnlyIfNewer()
    {
        using var anonymous = _registry.Channel(null);
        var first = await new RegistryService.RegistryServiceClient(anonymous).GetGlobalConfigurationAsync(new GetGlobalConfigurationRequest()).ResponseAsync;
        Assert.That(first.NotModified, Is.False);
        Assert.That(first.Configuration.Signature.IsEmpty, Is.False);

        var again = await new RegistryService.RegistryServiceClient(anonymous).GetGlobalConfigurationAsync(new GetGlobalConfigurationRequest { IfNewerThan = first.Version }).ResponseAsync;
        Assert.That(again.NotModified, Is.True);
        Assert.That(again.Configuration, Is.Null);
    }

    [Test]
    public async Task AuditLog_ChainVerifiesThenNamesTheFirstTamperedEntry()
    {
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/A", Name = "A" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/B", Name = "B" }).ResponseAsync;
        var intact = await new RegistryManagement.RegistryManagementClient(_admin).VerifyAuditLogAsync(new VerifyAuditLogRequest()).ResponseAsync;
        Assert.That(intact.Valid, Is.True);
        Assert.That(intact.Entries, Is.GreaterThanOrEqualTo(4UL));

        var target = _registry.Store.QueryAuditLog(0, 1000, null, "member.add")[0].Sequence;
        Assert.That(_registry.ExecuteSql("UPDATE audit_log SET after = replace(after, '\"A\"', '\"Z\"') WHERE seq = @a", target), Is.EqualTo(1));

        var broken = await new RegistryManagement.RegistryManagementClient(_admin).VerifyAuditLogAsync(new VerifyAuditLogRequest()).ResponseAsync;
        Assert.That(broken.Valid, Is.False);
        Assert.That(broken.FirstBadSequence, Is.EqualTo((ulong)target));
    }

    [Test]
    public async Task AuditLog_DeletedEntry_Detected()
    {
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/A", Name = "A" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/B", Name = "B" }).ResponseAsync;
        Assert.That(_registry.ExecuteSql("DELETE FROM audit_log WHERE seq = 3"), Is.EqualTo(1));

        var broken = await new RegistryManagement.RegistryManagementClient(_admin).VerifyAuditLogAsync(new VerifyAuditLogRequest()).ResponseAsync;
        Assert.That(broken.Valid, Is.False);
        Assert.That(broken.FirstBadSequence, Is.EqualTo(3UL));
    }
}
