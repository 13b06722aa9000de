// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Google.Protobuf;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// Strangers on the registry's gRPC port (issue 15, item 5): refusals of callers without a
/// certificate write nothing to the database, anonymous calls are rate-limited per source
/// address, and a registration's message is bounded to what a real one needs.
/// </summary>
public sealed class AnonymousRegistrationTests
{
    private const string Member = "VN/GOV/000.00.00.H01";

    private static async Task AddMemberAsync(RegistryFixture registry)
    {
        using var admin = registry.AdminChannel();
        var management = new RegistryManagement.RegistryManagementClient(admin);
        await management.AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await management.AddMemberAsync(new AddMemberRequest { Member = Member, Name = "Ministry of Public Security" }).ResponseAsync;
    }

    /// <summary>The reproduction: a 200,000-character member id, among other refusals, from a caller with no certificate.</summary>
    [Test]
    public async Task RefusedAnonymousRequests_WriteNothing()
    {
        await using var registry = await RegistryFixture.StartAsync(configure: o => o with { AnonymousCallsPerMinute = 1_000_000 });
        await AddMemberAsync(registry);
        using var anonymous = registry.Channel(null);
        var client = new RegistryService.RegistryServiceClient(anonymous);
        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        var genuine = RegistrationRequest.Parser.ParseFrom(NodeRegistration.Create(NodeId.Parse(Member + "/ss1"), "127.0.0.1:5500", a, s).Request);
        var huge = genuine.Clone();
        huge.Member = new string('A', 200_000);
        var large = genuine.Clone();
        large.Member = new string('A', 20_000);
        var unknownMember = NodeRegistration.Create(NodeId.Parse("VN/GOV/nobody/ss1"), "127.0.0.1:5500", a, s);
        using var other = EcKeys.GenerateP256();
        var badSignature = NodeRegistration.Sign(genuine, other);

        var auditBefore = registry.Store.QueryAuditLog(0, 1000, null, null).Count;
        var bytesBefore = registry.DatabaseBytes();
        var codes = new List<(StatusCode, string?)>();
        for (var i = 0; i < 40; i++)
        {
            foreach (var request in new[] { NodeRegistration.Sign(huge, a), NodeRegistration.Sign(large, a), unknownMember, badSignature })
            {
                var refused = await Assert.ThrowsAsync<RpcException>(() => client.SubmitRegistrationAsync(request).ResponseAsync);
                codes.Add((refused!.StatusCode, refused.ErrorCode));
            }

            var management = await Assert.ThrowsAsync<RpcException>(() =>
                new RegistryManagement.RegistryManagementClient(anonymous).AddMemberAsync(new AddMemberRequest { Member = Member + "X", Name = new string('N', 10_000) }).ResponseAsync);
            codes.Add((management!.StatusCode, management.ErrorCode));
        }

        // The 200 KB one is past what any method of the service takes: the runtime refuses it from its length prefix.
        Assert.That(codes.Distinct(), Is.EquivalentTo(new (StatusCode, string?)[]
        {
            (StatusCode.ResourceExhausted, null),
            (StatusCode.InvalidArgument, RegistryErrors.InvalidArgument),
            (StatusCode.NotFound, RegistryErrors.UnknownMember),
            (StatusCode.PermissionDenied, RegistryErrors.BadRegistrationSignature),
            (StatusCode.Unauthenticated, RegistryErrors.NotAdministrator),
        }));
        Assert.That(registry.Store.QueryAuditLog(0, 1000, null, null), Has.Count.EqualTo(auditBefore), "refusals of strangers are counted, not kept in the hash-chained log");
        Assert.That(registry.Store.ListRegistrations([]), Is.Empty);
        Assert.That(registry.DatabaseBytes() - bytesBefore, Is.LessThan(16 * 1024), "200 refusals, one in five of 200 KB");
    }

    [Test]
    public async Task RegistrationMessageBeyondAFewKiB_RefusedUnread()
    {
        await using var registry = await RegistryFixture.StartAsync(configure: o => o with { AnonymousCallsPerMinute = 1_000_000 });
        using var anonymous = registry.Channel(null);
        var client = new RegistryService.RegistryServiceClient(anonymous);
        var padded = new SignedRegistrationRequest { Request = ByteString.CopyFrom(new byte[RegistryStore.MaxRegistrationBytes + 1]), Signature = ByteString.CopyFrom(new byte[72]) };
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => client.SubmitRegistrationAsync(padded).ResponseAsync);
        Assert.That((tooLarge!.StatusCode, tooLarge.ErrorCode), Is.EqualTo((StatusCode.InvalidArgument, RegistryErrors.InvalidArgument)));

        // Past what any method of the service takes, the runtime refuses the message before any handler runs.
        var huge = new SignedRegistrationRequest { Request = ByteString.CopyFrom(new byte[1024 * 1024]) };
        var exhausted = await Assert.ThrowsAsync<RpcException>(() => client.SubmitRegistrationAsync(huge).ResponseAsync);
        Assert.That(exhausted!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(registry.Store.QueryAuditLog(0, 1000, null, "registration.submit"), Is.Empty);
    }

    [Test]
    public async Task AnonymousFlood_RateLimitedPerAddress_AdministratorStillAnswered()
    {
        await using var registry = await RegistryFixture.StartAsync(configure: o => o with { AnonymousCallsPerMinute = 2 });
        using var anonymous = registry.Channel(null);
        var client = new RegistryService.RegistryServiceClient(anonymous);
        var garbage = new SignedRegistrationRequest { Request = ByteString.CopyFrom(0xFF, 0xFF), Signature = ByteString.CopyFrom(1) };
        var refusals = new List<RpcException>();
        for (var i = 0; i < 20; i++)
        {
            refusals.Add((await Assert.ThrowsAsync<RpcException>(() => client.SubmitRegistrationAsync(garbage).ResponseAsync))!);
        }

        var limited = refusals.Where(r => r.StatusCode == StatusCode.ResourceExhausted).ToList();
        Assert.That(limited, Is.Not.Empty, "20 calls at once with a bucket of 2 a minute");
        Assert.That(limited.Select(r => r.ErrorCode), Is.All.EqualTo(RegistryErrors.RateLimited));
        Assert.That(limited.Select(r => r.CorrelationId), Is.All.Not.Empty);

        // The same address without a certificate is limited on management too; an administrator is not.
        var management = await Assert.ThrowsAsync<RpcException>(() =>
            new RegistryManagement.RegistryManagementClient(anonymous).ListMembersAsync(new ListMembersRequest()).ResponseAsync);
        Assert.That((management!.StatusCode, management.ErrorCode), Is.EqualTo((StatusCode.ResourceExhausted, RegistryErrors.RateLimited)));
        using var admin = registry.AdminChannel();
        Assert.That((await new RegistryManagement.RegistryManagementClient(admin).ListMembersAsync(new ListMembersRequest()).ResponseAsync).Members, Is.Empty);

        // Nodes polling the configuration are not counted.
        var configuration = await client.GetGlobalConfigurationAsync(new GetGlobalConfigurationRequest()).ResponseAsync;
        Assert.That(configuration.Version, Is.GreaterThan(0UL));
    }

    [Test]
    public async Task Settings_OutOfRange_RefusedAtStart()
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => RegistryFixture.StartAsync(
            configure: o => o with { AnonymousCallsPerMinute = 0, PendingRegistrationMaxAge = TimeSpan.FromSeconds(5), MaxPendingRegistrations = 0 }));
        Assert.That(ex!.Failures, Has.Some.Contains("anonymousCallsPerMinute"));
        Assert.That(ex.Failures, Has.Some.Contains("pendingRegistrationMaxAgeSeconds"));
        Assert.That(ex.Failures, Has.Some.Contains("maxPendingRegistrations"));
    }
}
