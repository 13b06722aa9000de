// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.Identifiers;

public sealed class IdentifierEqualityTests
{
    [Test]
    public void Equals_SameTextParsedTwice_IsEqualWithSameHashCode()
    {
        var a = ServiceId.Parse("VN/GOV/H01/registry/getCitizen/v1");
        var b = ServiceId.Parse("VN/GOV/H01/registry/getCitizen/v1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a == b, Is.True);
            Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
            Assert.That(ReferenceEquals(a, b), Is.False);
        }
    }

    [TestCase("vn/GOV/G01", "VN/GOV/G01")]
    [TestCase("VN/gov/G01", "VN/GOV/G01")]
    [TestCase("VN/GOV/g01", "VN/GOV/G01")]
    public void Equals_DifferentCase_IsNotEqual(string left, string right)
    {
        Assert.That(MemberId.Parse(left), Is.Not.EqualTo(MemberId.Parse(right)));
    }

    [Test]
    public void Equals_ServiceWithAndWithoutVersion_IsNotEqual()
    {
        Assert.That(
            ServiceId.Parse("VN/GOV/H01/registry/getCitizen"),
            Is.Not.EqualTo(ServiceId.Parse("VN/GOV/H01/registry/getCitizen/v1")));
    }

    [Test]
    public void Equals_MemberClientAndSubsystemClientOfSameMember_IsNotEqual()
    {
        var memberClient = ClientId.Parse("VN/GOV/G01");
        var subsystemClient = ClientId.Parse("VN/GOV/G01/dossier");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(memberClient, Is.Not.EqualTo(subsystemClient));
            Assert.That(subsystemClient.Member, Is.EqualTo(memberClient.Member));
        }
    }

    [Test]
    public void Equals_NodeAndSubsystemWithSameText_IsNotEqual()
    {
        object node = NodeId.Parse("VN/GOV/G01/x");
        object subsystem = SubsystemId.Parse("VN/GOV/G01/x");

        Assert.That(node.Equals(subsystem), Is.False);
    }

    [Test]
    public void Equals_ClientFromConversionAndParse_IsEqual()
    {
        ClientId converted = MemberId.Parse("VN/GOV/G01");

        Assert.That(converted, Is.EqualTo(ClientId.Parse("VN/GOV/G01")));
    }

    [Test]
    public void HashSet_IdentifiersFromDifferentSources_DeduplicatesByValue()
    {
        var member = MemberId.Create("VN", "GOV", "G01");
        var set = new HashSet<SubsystemId>
        {
            SubsystemId.Parse("VN/GOV/G01/dossier"),
            SubsystemId.Create(member, "dossier"),
            SubsystemId.Parse("VN/GOV/G01/Dossier"),
        };

        Assert.That(set, Has.Count.EqualTo(2));
    }
}
