// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Registry.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// Which pending registration is the node's (issue 15, item 7: a squatter's request must not
/// block the genuine one; the administrator approves by the key fingerprint the member's officer
/// confirms; pending requests expire) and re-registering a listed node (item 4: the approving
/// administrator is told it replaces the node, and its old certificates are revoked).
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class PendingRegistrationTests(StorageEngine engine) : OnEachEngine(engine)
{
    private const string Member = "VN/GOV/000.00.00.H01";
    private static readonly NodeId Node = NodeId.Parse(Member + "/ss1");

    private static async Task AddMemberAsync(RegistryFixture registry)
    {
        using var admin = registry.AdminChannel();
        var management = new RegistryManagement.RegistryManagementClient(admin);
        await management.AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await management.AddMemberAsync(new AddMemberRequest { Member = Member, Name = "Ministry of Public Security" }).ResponseAsync;
    }

    private static async Task<RegistrationStatus> SubmitAsync(RegistryFixture registry, ECDsa authKey, NodeId? node = null)
    {
        using var anonymous = registry.Channel(null);
        using var signingKey = EcKeys.GenerateP256();
        return await new RegistryService.RegistryServiceClient(anonymous)
            .SubmitRegistrationAsync(NodeRegistration.Create(node ?? Node, "127.0.0.1:5500", authKey, signingKey)).ResponseAsync;
    }

    private static async Task<RegistrationStatus> DecideAsync(RegistryFixture registry, string id, string fingerprint = "", bool approve = true)
    {
        using var admin = registry.AdminChannel();
        var management = new RegistryManagement.RegistryManagementClient(admin);
        var request = new DecideRegistrationRequest { RegistrationId = id, AuthKeySha256 = fingerprint, Reason = "test" };
        return await (approve ? management.ApproveRegistrationAsync(request) : management.RefuseRegistrationAsync(request)).ResponseAsync;
    }

    [Test]
    public async Task SquattersPendingRequest_DoesNotBlockTheGenuineOne_ApprovedByFingerprint()
    {
        await using var registry = await StartRegistryAsync();
        await AddMemberAsync(registry);
        using var squatterKey = EcKeys.GenerateP256();
        using var genuineKey = EcKeys.GenerateP256();
        var squatter = await SubmitAsync(registry, squatterKey);
        var genuine = await SubmitAsync(registry, genuineKey);
        Assert.That(genuine.State, Is.EqualTo(RegistrationState.Pending));

        var pending = registry.Store.ListRegistrations([RegistrationState.Pending]);
        Assert.That(pending.ToDictionary(r => r.RegistrationId, r => r.AuthKeySha256), Is.EquivalentTo(new Dictionary<string, string>
        {
            [squatter.RegistrationId] = KeyFingerprint.Of(squatterKey),
            [genuine.RegistrationId] = KeyFingerprint.Of(genuineKey),
        }));

        // Two requests for one node: the administrator must name the key the member confirmed.
        var unnamed = await Assert.ThrowsAsync<RpcException>(() => DecideAsync(registry, genuine.RegistrationId));
        Assert.That((unnamed!.StatusCode, unnamed.ErrorCode), Is.EqualTo((StatusCode.FailedPrecondition, RegistryErrors.FingerprintRequired)));
        var wrong = await Assert.ThrowsAsync<RpcException>(() => DecideAsync(registry, squatter.RegistrationId, KeyFingerprint.Of(genuineKey)));
        Assert.That((wrong!.StatusCode, wrong.ErrorCode), Is.EqualTo((StatusCode.FailedPrecondition, RegistryErrors.FingerprintMismatch)));

        // Read out over the phone in pairs, lower case: still the same fingerprint.
        var spoken = string.Join(':', KeyFingerprint.Of(genuineKey).ToLowerInvariant().Chunk(2).Select(c => new string(c)));
        var approved = await DecideAsync(registry, genuine.RegistrationId, spoken);
        Assert.That(approved.State, Is.EqualTo(RegistrationState.Approved));
        using var auth = X509CertificateLoader.LoadCertificate(approved.AuthCertificate.ToByteArray());
        Assert.That(auth.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(genuineKey.ExportSubjectPublicKeyInfo()));

        var closed = registry.Store.GetRegistration(squatter.RegistrationId)!;
        Assert.That(closed.State, Is.EqualTo(RegistrationState.Refused));
        Assert.That(closed.Reason, Does.Contain(genuine.RegistrationId));
    }

    [Test]
    public async Task SameKeyTwice_StillRefusedAsAlreadyPending()
    {
        await using var registry = await StartRegistryAsync();
        await AddMemberAsync(registry);
        using var key = EcKeys.GenerateP256();
        await SubmitAsync(registry, key);
        var again = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(registry, key));
        Assert.That((again!.StatusCode, again.ErrorCode), Is.EqualTo((StatusCode.AlreadyExists, RegistryErrors.RegistrationPending)));
    }

    [Test]
    public async Task PendingRequests_ExpireAfterTheConfiguredAge_AndAreCapped()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var registry = await StartRegistryAsync(timeProvider: clock,
            configure: o => o with { PendingRegistrationMaxAge = TimeSpan.FromMinutes(5), MaxPendingRegistrations = 2 });
        await AddMemberAsync(registry);
        using var first = EcKeys.GenerateP256();
        using var second = EcKeys.GenerateP256();
        using var third = EcKeys.GenerateP256();
        var old = await SubmitAsync(registry, first);
        await SubmitAsync(registry, second, NodeId.Parse(Member + "/ss2"));
        var listed = registry.Store.ListRegistrations([RegistrationState.Pending]).Single(r => r.RegistrationId == old.RegistrationId);
        Assert.That(listed.ExpiresAt.ToDateTimeOffset() - listed.SubmittedAt.ToDateTimeOffset(), Is.EqualTo(TimeSpan.FromMinutes(5)));

        var full = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(registry, third));
        Assert.That((full!.StatusCode, full.ErrorCode), Is.EqualTo((StatusCode.ResourceExhausted, RegistryErrors.TooManyPendingRegistrations)));

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.That(registry.Store.GetRegistration(old.RegistrationId)!.State, Is.EqualTo(RegistrationState.Expired));
        var late = await Assert.ThrowsAsync<RpcException>(() => DecideAsync(registry, old.RegistrationId));
        Assert.That((late!.StatusCode, late.ErrorCode), Is.EqualTo((StatusCode.FailedPrecondition, RegistryErrors.RegistrationExpired)));

        // Expired requests neither count against the cap nor block the same key.
        var renewed = await SubmitAsync(registry, first);
        Assert.That(renewed.State, Is.EqualTo(RegistrationState.Pending));
        Assert.That((await DecideAsync(registry, renewed.RegistrationId)).State, Is.EqualTo(RegistrationState.Approved));

        // The sweep (run on the registry's refresh tick, here by hand) records the expiry and keeps no CSRs.
        registry.Store.ExpireRegistrations();
        var expired = registry.Store.ListRegistrations([RegistrationState.Expired]);
        Assert.That(expired.Select(r => r.NodeCode), Is.EquivalentTo(new[] { "ss1", "ss2" }));
        Assert.That(registry.Store.QueryAuditLog(0, 1000, null, "registration.expire").Select(e => e.Actor), Is.Not.Empty.And.All.EqualTo("registry"));
    }

    [Test]
    public async Task ReRegisteringAListedNode_SaysWhatItReplaces_AndRevokesTheOldCertificatesAsSuperseded()
    {
        await using var registry = await StartRegistryAsync();
        await AddMemberAsync(registry);
        using var oldKey = EcKeys.GenerateP256();
        var first = await DecideAsync(registry, (await SubmitAsync(registry, oldKey)).RegistrationId);
        using var oldAuth = X509CertificateLoader.LoadCertificate(first.AuthCertificate.ToByteArray());
        using var oldSigning = X509CertificateLoader.LoadCertificate(first.SigningCertificate.ToByteArray());
        Assert.That(first.ReplacesNode, Is.Empty);

        using var newKey = EcKeys.GenerateP256();
        var again = await SubmitAsync(registry, newKey);

        // The administrator's list and the CLI say what approving would replace.
        var pending = registry.Store.ListRegistrations([RegistrationState.Pending]).Single();
        Assert.That(pending.ReplacesNode, Is.EqualTo(Node.ToString()));
        var listing = await Xbus.RunAsync("registry", "node", "registrations", "--pending", "--data", registry.Directory);
        Assert.That(listing.ExitCode, Is.EqualTo(0), listing.Error);
        Assert.That(listing.Output, Does.Contain($"replaces node {Node}").And.Contain(KeyFingerprint.Of(newKey)));

        var approve = await Xbus.RunAsync("registry", "node", "approve", again.RegistrationId, "--fingerprint", KeyFingerprint.Of(newKey), "--data", registry.Directory);
        Assert.That(approve.ExitCode, Is.EqualTo(0), approve.Error);
        Assert.That(approve.Output, Does.Contain($"replaces node {Node}").And.Contain("superseded"));

        foreach (var old in new[] { oldAuth, oldSigning })
        {
            var status = registry.Store.FindCertificateStatus(old.SerialNumber);
            Assert.That(status, Is.Not.Null);
            Assert.That((status!.Value.Revoked, status.Value.Reason), Is.EqualTo((true, 4)), $"{old.Subject} revoked as superseded");
        }

        var approved = registry.Store.GetRegistration(again.RegistrationId)!;
        using var newAuth = X509CertificateLoader.LoadCertificate(approved.AuthCertificate.ToByteArray());
        Assert.That(registry.Store.FindCertificateStatus(newAuth.SerialNumber)!.Value.Revoked, Is.False);
        var node = registry.Store.ListNodes().Single();
        Assert.That(node.AuthCertificateSha256.ToByteArray(), Is.EqualTo(SHA256.HashData(newAuth.RawData)));
        var entry = registry.Store.QueryAuditLog(0, 1000, null, "registration.approve")[^1];
        Assert.That(entry.After, Does.Contain("\"replacesNode\"").And.Contain(oldAuth.SerialNumber.TrimStart('0')));
    }
}
