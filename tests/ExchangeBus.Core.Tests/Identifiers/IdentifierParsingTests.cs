// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.Identifiers;

public sealed class IdentifierParsingTests
{
    [Test]
    public void MemberIdParse_DesignExample_ExposesPartsAndRoundTrips()
    {
        var id = MemberId.Parse("VN/GOV/000.00.00.G01");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.Instance, Is.EqualTo("VN"));
            Assert.That(id.MemberClass, Is.EqualTo("GOV"));
            Assert.That(id.MemberCode, Is.EqualTo("000.00.00.G01"));
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.G01"));
        }
    }

    [Test]
    public void SubsystemIdParse_DesignExample_ExposesMemberAndCode()
    {
        var id = SubsystemId.Parse("VN/GOV/000.00.00.G01/dossier");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.Member, Is.EqualTo(MemberId.Parse("VN/GOV/000.00.00.G01")));
            Assert.That(id.SubsystemCode, Is.EqualTo("dossier"));
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.G01/dossier"));
        }
    }

    [Test]
    public void ServiceIdParse_WithVersion_ExposesSubsystemCodeAndVersion()
    {
        var id = ServiceId.Parse("VN/GOV/000.00.00.H01/registry/getCitizen/v1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.Subsystem, Is.EqualTo(SubsystemId.Parse("VN/GOV/000.00.00.H01/registry")));
            Assert.That(id.Subsystem.Member.MemberCode, Is.EqualTo("000.00.00.H01"));
            Assert.That(id.ServiceCode, Is.EqualTo("getCitizen"));
            Assert.That(id.Version, Is.EqualTo("v1"));
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.H01/registry/getCitizen/v1"));
        }
    }

    [Test]
    public void ServiceIdParse_WithoutVersion_HasNullVersion()
    {
        var id = ServiceId.Parse("VN/GOV/000.00.00.H01/registry/getCitizen");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.Version, Is.Null);
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.H01/registry/getCitizen"));
        }
    }

    [Test]
    public void ClientIdParse_ThreeParts_IsMember()
    {
        var id = ClientId.Parse("VN/GOV/000.00.00.G01");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.IsSubsystem, Is.False);
            Assert.That(id.Subsystem, Is.Null);
            Assert.That(id.Member, Is.EqualTo(MemberId.Parse("VN/GOV/000.00.00.G01")));
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.G01"));
        }
    }

    [Test]
    public void ClientIdParse_FourParts_IsSubsystem()
    {
        var id = ClientId.Parse("VN/GOV/000.00.00.G01/dossier");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.IsSubsystem, Is.True);
            Assert.That(id.Subsystem, Is.EqualTo(SubsystemId.Parse("VN/GOV/000.00.00.G01/dossier")));
            Assert.That(id.Member, Is.EqualTo(MemberId.Parse("VN/GOV/000.00.00.G01")));
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.G01/dossier"));
        }
    }

    [Test]
    public void NodeIdParse_FourParts_ExposesOwnerAndNodeCode()
    {
        var id = NodeId.Parse("VN/GOV/000.00.00.G01/node1");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.Owner, Is.EqualTo(MemberId.Parse("VN/GOV/000.00.00.G01")));
            Assert.That(id.NodeCode, Is.EqualTo("node1"));
            Assert.That(id.ToString(), Is.EqualTo("VN/GOV/000.00.00.G01/node1"));
        }
    }

    [Test]
    public void GlobalGroupIdParse_TwoParts_ExposesInstanceAndGroupCode()
    {
        var id = GlobalGroupId.Parse("VN/ministries");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id.Instance, Is.EqualTo("VN"));
            Assert.That(id.GroupCode, Is.EqualTo("ministries"));
            Assert.That(id.ToString(), Is.EqualTo("VN/ministries"));
        }
    }

    [Test]
    public void Parse_EveryAllowedCharacter_IsAccepted()
    {
        var code = IdentifierLimits.AllowedCharacters;

        var id = MemberId.Parse($"VN/GOV/{code}");

        Assert.That(id.MemberCode, Is.EqualTo(code));
    }

    [Test]
    public void Parse_PartOfExactly255Characters_IsAccepted()
    {
        var code = new string('x', IdentifierLimits.MaxPartLength);

        Assert.That(MemberId.Parse($"VN/GOV/{code}").MemberCode, Has.Length.EqualTo(255));
    }

    [Test]
    public void Parse_IdentifierOfExactly1024Characters_IsAccepted()
    {
        var text = $"{new string('a', 255)}/{new string('b', 255)}/{new string('c', 255)}/{new string('d', 254)}/s";
        Assume.That(text, Has.Length.EqualTo(IdentifierLimits.MaxLength));

        Assert.That(ServiceId.Parse(text).ToString(), Is.EqualTo(text));
    }

    [Test]
    public void Create_ValidParts_EqualsParsedForm()
    {
        var member = MemberId.Create("VN", "GOV", "000.00.00.H01");
        var subsystem = SubsystemId.Create(member, "registry");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(member, Is.EqualTo(MemberId.Parse("VN/GOV/000.00.00.H01")));
            Assert.That(subsystem, Is.EqualTo(SubsystemId.Parse("VN/GOV/000.00.00.H01/registry")));
            Assert.That(ServiceId.Create(subsystem, "getCitizen", "v1"),
                Is.EqualTo(ServiceId.Parse("VN/GOV/000.00.00.H01/registry/getCitizen/v1")));
            Assert.That(ServiceId.Create(subsystem, "getCitizen"),
                Is.EqualTo(ServiceId.Parse("VN/GOV/000.00.00.H01/registry/getCitizen")));
            Assert.That(NodeId.Create(member, "node1"), Is.EqualTo(NodeId.Parse("VN/GOV/000.00.00.H01/node1")));
            Assert.That(GlobalGroupId.Create("VN", "ministries"), Is.EqualTo(GlobalGroupId.Parse("VN/ministries")));
        }
    }

    [Test]
    public void ClientIdFactories_MemberAndSubsystem_EqualParsedForms()
    {
        var member = MemberId.Parse("VN/GOV/G01");
        var subsystem = SubsystemId.Parse("VN/GOV/G01/dossier");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ClientId.FromMemberId(member), Is.EqualTo(ClientId.Parse("VN/GOV/G01")));
            Assert.That(ClientId.FromSubsystemId(subsystem), Is.EqualTo(ClientId.Parse("VN/GOV/G01/dossier")));
        }
    }

    [Test]
    public void ClientIdImplicitConversion_FromSubsystem_KeepsSubsystem()
    {
        ClientId client = SubsystemId.Parse("VN/GOV/G01/dossier");

        Assert.That(client.Subsystem?.SubsystemCode, Is.EqualTo("dossier"));
    }

    [Test]
    public void ClientIdImplicitConversion_FromNull_IsNull()
    {
        MemberId? member = null;

        ClientId? client = member;

        Assert.That(client, Is.Null);
    }

    [Test]
    public void ParseThroughIParsable_AnyIdentifierType_UsesSameRules()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ParseGeneric<ServiceId>("VN/GOV/H01/registry/getCitizen").ServiceCode, Is.EqualTo("getCitizen"));
            Assert.That(TryParseGeneric<MemberId>("VN/GOV"), Is.False);
            Assert.That(() => ParseGeneric<NodeId>("VN/GOV/H01/"), Throws.TypeOf<IdentifierFormatException>());
        }
    }

    private static T ParseGeneric<T>(string text)
        where T : IParsable<T> => T.Parse(text, provider: null);

    private static bool TryParseGeneric<T>(string text)
        where T : IParsable<T> => T.TryParse(text, provider: null, out _);
}
