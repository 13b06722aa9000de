// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.GlobalConf;

public sealed class GlobalConfigurationViewTests
{
    private GlobalConfTestPki pki = null!;
    private GlobalConfigurationView view = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        pki = new GlobalConfTestPki();
        var result = pki.Verifier().Verify(pki.SignedBytes(pki.Configuration(version: 3)), installed: null);
        Assert.That(result.IsValid, Is.True, result.ToString());
        view = result.View!;
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => pki.Dispose();

    [Test]
    public void Header_IsRead()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(view.Instance, Is.EqualTo("VN"));
            Assert.That(view.Version, Is.EqualTo(3UL));
            Assert.That(view.ExpiresAt - view.CreatedAt, Is.EqualTo(TimeSpan.FromSeconds(600)));
            Assert.That(view.RegistryAddress, Is.EqualTo("https://registry.vn.test:4443"));
            Assert.That(view.MemberClasses.Select(c => c.Code), Is.EqualTo(new[] { "GOV", "COM" }));
        }
    }

    [Test]
    public void RegistryAddresses_OneRegistry_ItsAddressAlone_SeveralListedInOrder_TheFirstMustBeRegistryAddress()
    {
        Assert.That(view.RegistryAddresses, Is.EqualTo(new[] { "https://registry.vn.test:4443" }));

        var several = pki.Configuration(version: 3);
        several.RegistryAddresses.Add(["https://registry.vn.test:4443", "https://REGISTRY2.vn.test:4443", "https://registry.vn.test:4443"]);
        Assert.That(GlobalConfigurationView.TryCreate(several, out var listed, out _), Is.True);
        Assert.That(listed!.RegistryAddresses, Is.EqualTo(new[] { "https://registry.vn.test:4443", "https://registry2.vn.test:4443" }));

        var wrong = pki.Configuration(version: 3);
        wrong.RegistryAddresses.Add(["https://other.vn.test:4443", "not an address"]);
        Assert.That(GlobalConfigurationView.TryCreate(wrong, out _, out var problems), Is.False);
        Assert.That(problems.Select(p => p.Path), Is.EqualTo(new[] { "registry_addresses[0]", "registry_addresses[1]" }));
    }

    [Test]
    public void Parameters_AreTimeSpans()
    {
        Assert.That(view.Parameters, Is.EqualTo(new GlobalConfigurationParameters
        {
            RefreshInterval = TimeSpan.FromMinutes(1),
            Validity = TimeSpan.FromMinutes(10),
            OcspRefreshInterval = TimeSpan.FromMinutes(20),
            OcspFreshness = TimeSpan.FromHours(1),
            TimeStampingInterval = TimeSpan.FromMinutes(1),
            TimeStampingMaxBatch = 10_000,
            AcceptableTimeStampFailure = TimeSpan.FromHours(4),
        }));
    }

    [Test]
    public void FindMember_ByIdentifier()
    {
        var member = view.FindMember(MemberId.Parse("VN/GOV/000.00.00.G01"));

        Assert.That(member, Is.Not.Null);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(member!.Name, Is.EqualTo("Ministry of Justice"));
            Assert.That(member.Subsystems.Select(s => s.ToString()), Is.EqualTo(new[] { "VN/GOV/000.00.00.G01/dossier", "VN/GOV/000.00.00.G01/registry" }));
            Assert.That(view.FindMember(MemberId.Parse("VN/GOV/000.00.00.X99")), Is.Null);
            Assert.That(view.FindMember(MemberId.Parse("EE/GOV/000.00.00.G01")), Is.Null, "another instance");
            Assert.That(view.FindMember(MemberId.Parse("VN/gov/000.00.00.G01")), Is.Null, "identifiers are case-sensitive");
            Assert.That(view.Members, Has.Count.EqualTo(3));
        }
    }

    [Test]
    public void SubsystemExists_OnlyForRegisteredOnes()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(view.SubsystemExists(SubsystemId.Parse("VN/GOV/000.00.00.H01/registry")), Is.True);
            Assert.That(view.SubsystemExists(SubsystemId.Parse("VN/GOV/000.00.00.H01/dossier")), Is.False);
            Assert.That(view.SubsystemExists(SubsystemId.Parse("VN/COM/12345678/registry")), Is.False);
        }
    }

    [Test]
    public void ClientExists_ForMembersAndSubsystems()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(view.ClientExists(ClientId.Parse("VN/COM/12345678")), Is.True);
            Assert.That(view.ClientExists(ClientId.Parse("VN/GOV/000.00.00.G01/dossier")), Is.True);
            Assert.That(view.ClientExists(ClientId.Parse("VN/GOV/000.00.00.G01/nosuch")), Is.False);
            Assert.That(view.ClientExists(ClientId.Parse("VN/COM/99999999")), Is.False);
        }
    }

    [Test]
    public void NodesOf_InConfigurationOrder()
    {
        var nodes = view.NodesOf(MemberId.Parse("VN/GOV/000.00.00.G01"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(nodes.Select(n => n.Id.ToString()), Is.EqualTo(new[] { "VN/GOV/000.00.00.G01/node1", "VN/GOV/000.00.00.G01/node2" }));
            Assert.That(nodes.Select(n => (n.Host, n.Port)), Is.EqualTo(new[] { ("node1.g01.vn.test", 5500), ("10.0.0.2", 5500) }));
            Assert.That(view.NodesOf(MemberId.Parse("VN/COM/12345678")), Is.Empty);
            Assert.That(view.NodesOf(MemberId.Parse("VN/COM/99999999")), Is.Empty);
        }
    }

    [Test]
    public void FindNode_ById_WithIpv6Host()
    {
        var node = view.FindNode(NodeId.Parse("VN/GOV/000.00.00.H01/node1"));

        Assert.That(node, Is.Not.Null);
        Assert.That((node!.Host, node.Port, node.Address), Is.EqualTo(("[2001:db8::1]", 5500, "[2001:db8::1]:5500")));
    }

    [Test]
    public void FindNodeByAuthCertificate_TheTlsPeerCheck()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(view.FindNodeByAuthCertificate(pki.NodeCertificates[1])?.Id.ToString(), Is.EqualTo("VN/GOV/000.00.00.G01/node2"));
            Assert.That(
                view.FindNodeByAuthCertificateSha256(SHA256.HashData(pki.NodeCertificates[2].RawData))?.Id.ToString(),
                Is.EqualTo("VN/GOV/000.00.00.H01/node1"));
            Assert.That(view.FindNodeByAuthCertificate(pki.TsaCertificate), Is.Null);
            Assert.That(view.FindNodeByAuthCertificateSha256(new byte[32]), Is.Null);
            Assert.That(view.FindNodeByAuthCertificateSha256([]), Is.Null);
        }
    }

    [Test]
    public void NodeEntry_KeepsTheHash()
    {
        var node = view.FindNode(NodeId.Parse("VN/GOV/000.00.00.G01/node1"))!;

        Assert.That(node.AuthCertificateSha256.ToArray(), Is.EqualTo(SHA256.HashData(pki.NodeCertificates[0].RawData)));
    }

    [Test]
    public void IsInGlobalGroup_ExactClientOnly()
    {
        var group = GlobalGroupId.Parse("VN/tax-authorities");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(view.IsInGlobalGroup(group, ClientId.Parse("VN/GOV/000.00.00.G01")), Is.True);
            Assert.That(view.IsInGlobalGroup(group, ClientId.Parse("VN/GOV/000.00.00.H01/registry")), Is.True);
            Assert.That(view.IsInGlobalGroup(group, ClientId.Parse("EE/GOV/70000310")), Is.True, "federated member");

            // A listed member does not bring its subsystems, nor a subsystem its member.
            Assert.That(view.IsInGlobalGroup(group, ClientId.Parse("VN/GOV/000.00.00.G01/dossier")), Is.False);
            Assert.That(view.IsInGlobalGroup(group, ClientId.Parse("VN/GOV/000.00.00.H01")), Is.False);
            Assert.That(view.IsInGlobalGroup(GlobalGroupId.Parse("VN/empty"), ClientId.Parse("VN/GOV/000.00.00.G01")), Is.False);
            Assert.That(view.IsInGlobalGroup(GlobalGroupId.Parse("VN/nosuch"), ClientId.Parse("VN/GOV/000.00.00.G01")), Is.False);
            Assert.That(view.FindGlobalGroup(group)?.Members, Has.Count.EqualTo(3));
        }
    }

    [Test]
    public void TrustedCertificateAuthorities_AreTheConfiguredOnes()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(view.TrustedCertificateAuthorities.Select(c => c.RawData), Is.EqualTo(new[] { pki.Root.Certificate.RawData }));
            Assert.That(view.CertificateAuthorities[0].Name, Is.EqualTo("VN Test Root CA"));
            Assert.That(view.CertificateAuthorities[0].OcspUrl, Is.EqualTo(new Uri("http://ocsp.vn.test/")));
            Assert.That(view.CertificateAuthorities[0].OcspCertificate?.RawData, Is.EqualTo(pki.OcspCertificate.RawData));
        }
    }

    [Test]
    public void TimeStampingAuthorities_AreListed()
    {
        var tsa = view.TimeStampingAuthorities.Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(tsa.Name, Is.EqualTo("VN Test TSA"));
            Assert.That(tsa.Url, Is.EqualTo(new Uri("http://tsa.vn.test/")));
            Assert.That(tsa.Certificate.RawData, Is.EqualTo(pki.TsaCertificate.RawData));
        }
    }

    [Test]
    public void LookupsAreSafeFromManyThreads()
    {
        var member = MemberId.Parse("VN/GOV/000.00.00.G01");
        var group = GlobalGroupId.Parse("VN/tax-authorities");
        var client = ClientId.Parse("VN/GOV/000.00.00.H01/registry");
        var failures = 0;

        Parallel.For(0, 20_000, _ =>
        {
            if (view.FindMember(member) is null || view.NodesOf(member).Count != 2 || !view.IsInGlobalGroup(group, client))
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.That(failures, Is.Zero);
    }
}
