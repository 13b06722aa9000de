// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Registry.Tests;

/// <summary>The store's reads the web console pages through: slices with their totals, filters, and the revocation it calls.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class ConsoleQueryTests(StorageEngine engine) : OnEachEngine(engine)
{
    [Test]
    public async Task SearchMembers_MatchesCodeOrName_ASliceAtATime_WithTheTotal()
    {
        await using var registry = await StartRegistryAsync();
        var store = registry.Store;
        store.AddMemberClass("test", "GOV", "Government");
        for (var i = 1; i <= 5; i++)
        {
            store.AddMember("test", $"VN/GOV/G0{i}", i % 2 == 0 ? $"Sở {i}" : $"Bộ {i}");
        }

        store.AddMember("test", "VN/GOV/P1", "100% tỉnh");

        var all = store.SearchMembers(null, 0, 4);
        Assert.That((all.Total, all.Items.Select(m => m.Member)), Is.EqualTo((6, new[] { "VN/GOV/G01", "VN/GOV/G02", "VN/GOV/G03", "VN/GOV/G04" })));
        Assert.That(store.SearchMembers("", 4, 4).Items.Select(m => m.Member), Is.EqualTo(new[] { "VN/GOV/G05", "VN/GOV/P1" }));
        Assert.That(store.SearchMembers("Sở", 0, 10).Items.Select(m => m.Member), Is.EqualTo(new[] { "VN/GOV/G02", "VN/GOV/G04" }));
        Assert.That(store.SearchMembers("VN/GOV/G03", 0, 10).Items.Single().Name, Is.EqualTo("Bộ 3"), "the instance prefix is allowed");
        Assert.That(store.SearchMembers("%", 0, 10).Items.Single().Member, Is.EqualTo("VN/GOV/P1"), "LIKE wildcards are matched literally");
        Assert.That(store.SearchMembers("G_1", 0, 10).Total, Is.Zero);
        Assert.That(store.SearchMembers(null, 0, 100_000).Items, Has.Count.EqualTo(6), "a slice is bounded, not refused");

        store.AddSubsystem("test", "VN/GOV/G01/hoso");
        var member = store.FindMember("VN/GOV/G01");
        Assert.That(member!.Subsystems.Select(s => s.Subsystem), Is.EqualTo(new[] { "VN/GOV/G01/hoso" }));
        Assert.That((store.FindMember("VN/GOV/G99"), store.FindMember("EE/GOV/G01"), store.FindMember("not an id")), Is.EqualTo((null as object, null as object, null as object)));
    }

    [Test]
    public async Task SearchCertificates_BySerialSubjectAndOwner_ThenRevokeIsRefusedTheSecondTimeWithItsCode()
    {
        await using var registry = await StartRegistryAsync();
        var store = registry.Store;
        var issued = store.ListCertificates();
        Assert.That(issued, Is.Not.Empty, "the registry's own certificates are recorded at init");
        var first = issued[0];

        var bySerial = store.SearchCertificates("0" + first.SerialNumber[..6].ToLowerInvariant(), null, null, 0, 10);
        Assert.That(bySerial.Items.Select(c => c.Info.SerialNumber), Does.Contain(first.SerialNumber), "leading zeros and case ignored");
        var bySubject = store.SearchCertificates(null, first.Subject[..Math.Min(8, first.Subject.Length)], null, 0, 10);
        Assert.That(bySubject.Items.Select(c => c.Info.SerialNumber), Does.Contain(first.SerialNumber));
        Assert.That(store.SearchCertificates(null, null, null, 0, 1), Has.Property("Total").EqualTo(issued.Count).And.Property("Items").Count.EqualTo(1));
        Assert.That(store.SearchCertificates(null, null, "VN/GOV/G01", 0, 10).Total, Is.Zero, "nothing was issued through a registration of that member");
        Assert.That(store.SearchCertificates(null, null, "not/an/identifier/at/all", 0, 10).Total, Is.Zero);

        store.RevokeCertificate("console:an", first.SerialNumber, "keyCompromise");
        var revoked = store.FindCertificate(first.SerialNumber)!;
        Assert.That((revoked.Info.Revoked, revoked.Info.RevocationReason), Is.EqualTo((true, "keyCompromise")));
        Assert.That(revoked.Der, Is.Not.Empty);

        var again = Assert.Throws<RegistryException>(() => store.RevokeCertificate("console:an", first.SerialNumber, "keyCompromise"));
        var unknown = Assert.Throws<RegistryException>(() => store.RevokeCertificate("console:an", "ABCDEF0123", "unspecified"));
        var badReason = Assert.Throws<RegistryException>(() => store.RevokeCertificate("console:an", issued[1].SerialNumber, "becauseISaidSo"));
        Assert.That((again!.Code, unknown!.Code, badReason!.Code), Is.EqualTo((RegistryErrors.AlreadyRevoked, RegistryErrors.UnknownCertificate, RegistryErrors.InvalidArgument)));
        Assert.That(store.FindCertificate("ABCDEF0123"), Is.Null);
    }

    [Test]
    public async Task SearchAuditLog_FiltersByActorResultAndTime_NewestFirst()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var registry = await StartRegistryAsync(timeProvider: clock);
        var store = registry.Store;
        clock.Advance(TimeSpan.FromHours(1));
        var start = clock.GetUtcNow();
        store.AddMemberClass("console:an", "GOV", "Government");
        Assert.Throws<RegistryException>(() => store.AddMemberClass("console:an", "GOV", "again"));
        clock.Advance(TimeSpan.FromMinutes(10));
        store.AddMemberClass("console:binh", "COM", "Companies");

        var an = store.SearchAuditLog(new AuditLogFilter(Actor: "console:an"), 0, 10);
        Assert.That(an.Items.Select(e => (e.Action, e.Accepted, e.ErrorCode)), Is.EqualTo(new[]
        {
            ("memberClass.add", false, RegistryErrors.DuplicateMemberClass), ("memberClass.add", true, string.Empty),
        }), "newest first");
        Assert.That(store.SearchAuditLog(new AuditLogFilter(Accepted: false), 0, 10).Items.Single().Actor, Is.EqualTo("console:an"));
        Assert.That(store.SearchAuditLog(new AuditLogFilter(From: start, To: start.AddMinutes(10)), 0, 10).Total, Is.EqualTo(2), "To is exclusive");
        Assert.That(store.SearchAuditLog(new AuditLogFilter(From: start.AddMinutes(10)), 0, 10).Items.Single().Actor, Is.EqualTo("console:binh"));
        var everything = store.SearchAuditLog(new AuditLogFilter(), 0, 2);
        Assert.That((everything.Items.Count, everything.Total), Is.EqualTo((2, store.QueryAuditLog(0, 1000, null, null).Count)));
        Assert.That(everything.Items[0].Sequence, Is.GreaterThan(everything.Items[1].Sequence));
    }

    [Test]
    public async Task ListConfigurations_NewestFirst_AndTheSignedBytesAreWhatNodesReceive()
    {
        await using var registry = await StartRegistryAsync();
        var store = registry.Store;
        store.AddMemberClass("test", "GOV", "Government");

        var versions = store.ListConfigurations(0, 10);
        var (current, signed) = store.CurrentConfiguration();
        Assert.That(versions.Items[0].Version, Is.EqualTo(current));
        Assert.That(versions.Items.Select(v => v.Version), Is.Ordered.Descending);
        Assert.That(versions.Total, Is.EqualTo(versions.Items.Count));
        Assert.That(store.ReadSignedConfiguration(current), Is.EqualTo(signed!.ToByteArray()));
        Assert.That(versions.Items[0].Bytes, Is.EqualTo(signed!.CalculateSize()));
        Assert.That(store.ReadSignedConfiguration(current + 1), Is.Null);
    }

    [Test]
    public async Task GlobalGroups_ListedWithTheirMembers_AndAnUnknownGroupIsNull()
    {
        await using var registry = await StartRegistryAsync();
        var store = registry.Store;
        store.AddMemberClass("test", "GOV", "Government");
        store.AddMember("test", "VN/GOV/G01", "Bộ 1");
        store.AddGlobalGroup("test", "VN/one-stop-shops", "Bộ phận một cửa");
        store.SetGlobalGroupMember("console:an", "VN/one-stop-shops", "VN/GOV/G01", present: true);

        Assert.That(store.ListGlobalGroups(), Is.EqualTo(new[] { new GlobalGroupView("VN/one-stop-shops", "Bộ phận một cửa", 1) }));
        Assert.That(store.GlobalGroupMembers("VN/one-stop-shops"), Is.EqualTo(new[] { "VN/GOV/G01" }));
        Assert.That((store.GlobalGroupMembers("VN/nobody"), store.GlobalGroupMembers("EE/one-stop-shops")), Is.EqualTo((null as object, null as object)));

        var unknownMember = Assert.Throws<RegistryException>(() => store.SetGlobalGroupMember("console:an", "VN/one-stop-shops", "VN/GOV/G99", present: true));
        var unknownGroup = Assert.Throws<RegistryException>(() => store.SetGlobalGroupMember("console:an", "VN/nobody", "VN/GOV/G01", present: true));
        Assert.That((unknownMember!.Code, unknownGroup!.Code), Is.EqualTo((RegistryErrors.UnknownMember, RegistryErrors.UnknownGroup)));
    }
}
