// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Tests.Pki;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Core.Tests.GlobalConf;

/// <summary>
/// The content rules, one at a time, through <see cref="GlobalConfigurationView.TryCreate"/>
/// (the same checks the verifier runs after the signature, and the registry before signing).
/// </summary>
public sealed class GlobalConfigurationContentTests
{
    private GlobalConfTestPki pki = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp() => pki = new GlobalConfTestPki();

    [OneTimeTearDown]
    public void OneTimeTearDown() => pki.Dispose();

    // Back to the start when a test moved the shared clock on (SetUtcNow and Advance only go forward).
    [SetUp]
    public void SetUp() => pki.Clock.AdjustTime(TestClock.Start);

    [Test]
    public void SampleConfiguration_HasNoProblems()
    {
        var ok = GlobalConfigurationView.TryCreate(pki.Configuration(), out var view, out var problems);

        Assert.That(ok, Is.True, string.Join("\n", problems));
        Assert.That(view, Is.Not.Null);
        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void DuplicateMember_Reported()
    {
        var problems = Problems(c => c.Members.Add(new Member { MemberClass = "GOV", MemberCode = "000.00.00.G01", Name = "Again" }));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "members[3]" && p.Message.Contains("more than once", StringComparison.Ordinal)));
    }

    [Test]
    public void MemberOfUnlistedClass_Reported()
    {
        var problems = Problems(c => c.Members[2].MemberClass = "NGO");

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "members[2].member_class"));
    }

    [Test]
    public void DuplicateMemberClass_Reported()
    {
        var problems = Problems(c => c.MemberClasses.Add(new MemberClass { Code = "GOV" }));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "member_classes[2].code"));
    }

    [Test]
    public void MemberWithoutName_Reported()
    {
        var problems = Problems(c => c.Members[0].Name = "  ");

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "members[0].name"));
    }

    [TestCase("bad/code")]
    [TestCase("")]
    [TestCase("tab\there")]
    public void MemberCodeThatIsNotAnIdentifier_Reported(string code)
    {
        var problems = Problems(c => c.Members[2].MemberCode = code);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "members[2]"));
    }

    [Test]
    public void DuplicateSubsystem_Reported()
    {
        var problems = Problems(c => c.Members[0].Subsystems.Add("dossier"));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "members[0].subsystems[2]"));
    }

    [Test]
    public void SameSubsystemCodeInTwoMembers_IsFine()
    {
        // "registry" is a subsystem of both ministries in the sample; codes are per member.
        Assert.That(GlobalConfigurationView.TryCreate(pki.Configuration(), out _, out _), Is.True);
    }

    [Test]
    public void NodeOwnerNotAMember_Reported()
    {
        var problems = Problems(c => c.Nodes[2].OwnerCode = "000.00.00.X99");

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "nodes[2]" && p.Message.Contains("not a member", StringComparison.Ordinal)));
    }

    [Test]
    public void DuplicateNode_Reported()
    {
        var problems = Problems(c =>
        {
            var copy = c.Nodes[0].Clone();
            copy.AuthCertificateSha256 = ByteString.CopyFrom(new byte[32]);
            c.Nodes.Add(copy);
        });

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "nodes[3]" && p.Message.Contains("more than once", StringComparison.Ordinal)));
    }

    [Test]
    public void TwoNodesWithOneCertificate_Reported()
    {
        var problems = Problems(c => c.Nodes[1].AuthCertificateSha256 = c.Nodes[0].AuthCertificateSha256);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "nodes[1].auth_certificate_sha256"));
    }

    [TestCase(0)]
    [TestCase(20)]
    [TestCase(33)]
    public void NodeCertificateHashOfWrongLength_Reported(int length)
    {
        var problems = Problems(c => c.Nodes[0].AuthCertificateSha256 = ByteString.CopyFrom(new byte[length]));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "nodes[0].auth_certificate_sha256"));
    }

    [TestCase("")]
    [TestCase("node1.vn.test")]
    [TestCase("node1.vn.test:0")]
    [TestCase("node1.vn.test:65536")]
    [TestCase("node1.vn.test:80x")]
    [TestCase(":5500")]
    [TestCase("node 1:5500")]
    [TestCase("2001:db8::1:5500")]
    [TestCase("[not-v6]:5500")]
    [TestCase("https://node1.vn.test:5500")]
    public void NodeAddressNotHostPort_Reported(string address)
    {
        var problems = Problems(c => c.Nodes[0].Address = address);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "nodes[0].address"));
    }

    [TestCase("node1.vn.test:1")]
    [TestCase("192.0.2.7:65535")]
    [TestCase("[::1]:5500")]
    public void NodeAddressHostPort_Accepted(string address)
    {
        var configuration = pki.Configuration();
        configuration.Nodes[0].Address = address;

        Assert.That(GlobalConfigurationView.TryCreate(configuration, out _, out var problems), Is.True, string.Join("\n", problems));
    }

    [Test]
    public void GroupMemberNotRegistered_IsAccepted()
    {
        // The registry omits disabled members but keeps their group memberships.
        var configuration = pki.Configuration();
        configuration.GlobalGroups[0].Members.Add("VN/GOV/000.00.00.G01/nosuch");

        Assert.That(GlobalConfigurationView.TryCreate(configuration, out var view, out var problems), Is.True, string.Join("\n", problems));
        Assert.That(view!.ClientExists(ClientId.Parse("VN/GOV/000.00.00.G01/nosuch")), Is.False);
    }

    [Test]
    public void GroupMemberNotAnIdentifier_Reported()
    {
        var problems = Problems(c => c.GlobalGroups[0].Members.Add("VN/GOV"));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "global_groups[0].members[3]"));
    }

    [Test]
    public void GroupMemberListedTwice_Reported()
    {
        var problems = Problems(c => c.GlobalGroups[0].Members.Add("VN/GOV/000.00.00.G01"));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "global_groups[0].members[3]"));
    }

    [Test]
    public void DuplicateGroup_Reported()
    {
        var problems = Problems(c => c.GlobalGroups.Add(new GlobalGroup { Code = "empty" }));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "global_groups[2].code"));
    }

    [TestCase("refresh_interval_seconds", 0u)]
    [TestCase("refresh_interval_seconds", 3601u)]
    [TestCase("validity_seconds", 0u)]
    [TestCase("validity_seconds", 604_801u)]
    [TestCase("ocsp_refresh_interval_seconds", 0u)]
    [TestCase("ocsp_refresh_interval_seconds", 86_401u)]
    [TestCase("ocsp_freshness_seconds", 0u)]
    [TestCase("ocsp_freshness_seconds", 604_801u)]
    [TestCase("time_stamping_interval_seconds", 0u)]
    [TestCase("time_stamping_interval_seconds", 86_401u)]
    [TestCase("time_stamping_max_batch", 0u)]
    [TestCase("time_stamping_max_batch", 1_000_001u)]
    [TestCase("acceptable_time_stamp_failure_seconds", 0u)]
    [TestCase("acceptable_time_stamp_failure_seconds", 604_801u)]
    public void ParameterOutOfRange_Reported(string field, uint value)
    {
        var problems = Problems(c =>
        {
            var descriptor = Parameters.Descriptor.FindFieldByName(field);
            descriptor.Accessor.SetValue(c.Parameters, value);
        });

        Assert.That(problems.Select(p => p.Path), Does.Contain("parameters." + field));
    }

    [Test]
    public void ValidityShorterThanTwoRefreshes_Reported()
    {
        var problems = Problems(c => c.Parameters.RefreshIntervalSeconds = 400);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "parameters.validity_seconds"));
    }

    [Test]
    public void SmallestParametersTheRegistryAllows_Accepted()
    {
        // Whatever the registry's own parameter check lets through, nodes must accept.
        var configuration = pki.Configuration();
        configuration.Parameters = new Parameters
        {
            RefreshIntervalSeconds = 1,
            ValiditySeconds = 2,
            OcspRefreshIntervalSeconds = 1,
            OcspFreshnessSeconds = 1,
            TimeStampingIntervalSeconds = 1,
            TimeStampingMaxBatch = 1,
            AcceptableTimeStampFailureSeconds = 1,
        };
        configuration.ExpiresAt = Timestamp.FromDateTimeOffset(configuration.CreatedAt.ToDateTimeOffset().AddSeconds(2));

        Assert.That(GlobalConfigurationView.TryCreate(configuration, out _, out var problems), Is.True, string.Join("\n", problems));
    }

    [Test]
    public void OcspFreshnessBelowRefresh_Reported()
    {
        var problems = Problems(c => c.Parameters.OcspFreshnessSeconds = 1199);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "parameters.ocsp_freshness_seconds"));
    }

    [Test]
    public void MissingParameters_Reported()
    {
        var problems = Problems(c => c.Parameters = null);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "parameters"));
    }

    [Test]
    public void ExpiryBeforeCreation_Reported()
    {
        var problems = Problems(c => c.ExpiresAt = Timestamp.FromDateTimeOffset(c.CreatedAt.ToDateTimeOffset().AddSeconds(-1)));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "expires_at"));
    }

    [Test]
    public void LifetimeLongerThanValidity_Reported()
    {
        var problems = Problems(c => c.ExpiresAt = Timestamp.FromDateTimeOffset(c.CreatedAt.ToDateTimeOffset().AddSeconds(601)));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "expires_at" && p.Message.Contains("validity", StringComparison.Ordinal)));
    }

    [Test]
    public void TimestampOutOfRange_Reported()
    {
        var problems = Problems(c => c.CreatedAt = new Timestamp { Seconds = long.MaxValue });

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "created_at"));
    }

    [TestCase("")]
    [TestCase("http://registry.vn.test:4443")]
    [TestCase("https://registry.vn.test:4443/path")]
    [TestCase("https://user@registry.vn.test:4443")]
    [TestCase("https://registry.vn.test:4443 ")]
    [TestCase("registry.vn.test:4443")]
    public void RegistryAddressNotHttpsHostPort_Reported(string address)
    {
        var problems = Problems(c => c.RegistryAddress = address);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "registry_address"));
    }

    [Test]
    public void BadInstance_ReportedOnceNotPerIdentifier()
    {
        var problems = Problems(c => c.Instance = "V N");

        Assert.That(problems.Select(p => p.Path), Is.EqualTo(new[] { "instance" }));
    }

    [Test]
    public void CertificateAuthorityNotDer_Reported()
    {
        var problems = Problems(c => c.CertificateAuthorities[0].Certificate = ByteString.CopyFromUtf8(pki.Root.Certificate.ExportCertificatePem()));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "certificate_authorities[0].certificate"));
    }

    [Test]
    public void CertificateAuthorityThatIsNotACa_Reported()
    {
        var problems = Problems(c => c.CertificateAuthorities[0].Certificate = ByteString.CopyFrom(pki.TsaCertificate.RawData));

        Assert.That(problems.Select(p => p.Path), Does.Contain("certificate_authorities[0].certificate"));
    }

    [Test]
    public void OcspCertificateFromAnotherAuthority_Reported()
    {
        var (foreign, key) = pki.Issue(CertificateProfile.OcspSigning, "Foreign OCSP", pki.TlsRoot);
        using (key)
        {
            var problems = Problems(c => c.CertificateAuthorities[0].OcspCertificate = ByteString.CopyFrom(foreign.RawData));

            Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "certificate_authorities[0].ocsp_certificate"));
        }
    }

    [Test]
    public void OcspCertificateWithoutOcspSigning_Reported()
    {
        var problems = Problems(c => c.CertificateAuthorities[0].OcspCertificate = ByteString.CopyFrom(pki.TsaCertificate.RawData));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "certificate_authorities[0].ocsp_certificate"));
    }

    [Test]
    public void NoOcspCertificate_IsFine()
    {
        // The authority then signs its OCSP responses itself (RFC 6960 4.2.2.2).
        var configuration = pki.Configuration();
        configuration.CertificateAuthorities[0].OcspCertificate = ByteString.Empty;

        Assert.That(GlobalConfigurationView.TryCreate(configuration, out var view, out _), Is.True);
        Assert.That(view!.CertificateAuthorities[0].OcspCertificate, Is.Null);
    }

    [TestCase("")]
    [TestCase("ftp://ocsp.vn.test/")]
    [TestCase("/relative")]
    public void OcspUrlNotHttp_Reported(string url)
    {
        var problems = Problems(c => c.CertificateAuthorities[0].OcspUrl = url);

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "certificate_authorities[0].ocsp_url"));
    }

    [Test]
    public void DuplicateCertificateAuthority_Reported()
    {
        var problems = Problems(c =>
        {
            var copy = c.CertificateAuthorities[0].Clone();
            copy.Name = "Another name";
            c.CertificateAuthorities.Add(copy);
        });

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "certificate_authorities[1].certificate"));
    }

    [Test]
    public void TimeStampingAuthorityWithoutTimeStampingUsage_Reported()
    {
        var problems = Problems(c => c.TimeStampingAuthorities[0].Certificate = ByteString.CopyFrom(pki.OcspCertificate.RawData));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "time_stamping_authorities[0].certificate"));
    }

    [Test]
    public void TimeStampingAuthorityNamesMustDiffer_Reported()
    {
        var problems = Problems(c => c.TimeStampingAuthorities.Add(c.TimeStampingAuthorities[0].Clone()));

        Assert.That(problems, Has.One.Matches<GlobalConfError>(p => p!.Path == "time_stamping_authorities[1].name"));
    }

    [Test]
    public void ManyProblems_AllCountedButDetailBounded()
    {
        var problems = Problems(c =>
        {
            for (var i = 0; i < 1500; i++)
            {
                c.Members[0].Subsystems.Add("bad/" + i);
            }
        });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(problems, Has.Count.EqualTo(1001));
            Assert.That(problems[^1].Message, Does.Contain("500 more"));
        }
    }

    [Test]
    public void UnknownFieldsFromANewerRegistry_AreIgnored()
    {
        // Field 99 (varint 1) appended: what a newer schema would add.
        var configuration = pki.Configuration();
        var bytes = configuration.ToByteArray().Concat(new byte[] { 0x98, 0x06, 0x01 }).ToArray();

        var parsed = GlobalConfiguration.Parser.ParseFrom(bytes);

        Assert.That(GlobalConfigurationView.TryCreate(parsed, out _, out var problems), Is.True, string.Join("\n", problems));
    }

    private List<GlobalConfError> Problems(Action<GlobalConfiguration> mutate)
    {
        var configuration = pki.Configuration();
        mutate(configuration);
        var ok = GlobalConfigurationView.TryCreate(configuration, out var view, out var problems);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok, Is.False, "expected a content problem");
            Assert.That(view, Is.Null);
            Assert.That(problems.Select(p => p.Code), Is.All.EqualTo(GlobalConfErrors.InvalidContent));
        }

        return [.. problems];
    }
}
