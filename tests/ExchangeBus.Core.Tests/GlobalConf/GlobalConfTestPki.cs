// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Tests.Pki;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Time.Testing;
using CertificateAuthority = ExchangeBus.Core.Pki.CertificateAuthority;

namespace ExchangeBus.Core.Tests.GlobalConf;

/// <summary>
/// A small instance made with the real CA code: a root, two configuration-signing keys (one in
/// the anchor, one not), a separate TLS root, an OCSP responder, a TSA and node certificates,
/// and a configuration that uses them all. Keys are made once per test class; the clock is the
/// test's to move.
/// </summary>
internal sealed class GlobalConfTestPki : IDisposable
{
    public const string Instance = "VN";
    public const string RegistryAddress = "https://registry.vn.test:4443";

    public GlobalConfTestPki()
    {
        Clock = new FakeTimeProvider(TestClock.Start);
        Root = CertificateAuthority.CreateRoot(CertificateNames.CentralService(Instance, "Test", "Root CA"), Clock);
        TlsRoot = CertificateAuthority.CreateRoot(CertificateNames.CentralService(Instance, "Test", "TLS Root CA"), Clock);
        (SigningCertificate, SigningKey) = Issue(CertificateProfile.ConfigurationSigning, "Configuration signing");
        (OtherSigningCertificate, OtherSigningKey) = Issue(CertificateProfile.ConfigurationSigning, "Configuration signing 2");
        (OcspCertificate, _) = Issue(CertificateProfile.OcspSigning, "OCSP");
        (TsaCertificate, _) = Issue(CertificateProfile.TimeStamping, "TSA");
        NodeCertificates = Enumerable.Range(0, 3).Select(i => IssueNode(i)).ToArray();
        Anchor = ConfigurationAnchor.Create(Instance, RegistryAddress, [SigningCertificate], [TlsRoot.Certificate], Clock.GetUtcNow());
        Signer = new GlobalConfigurationSigner(SigningCertificate, SigningKey);
        OtherSigner = new GlobalConfigurationSigner(OtherSigningCertificate, OtherSigningKey);
    }

    public FakeTimeProvider Clock { get; }

    public CertificateAuthority Root { get; }

    public CertificateAuthority TlsRoot { get; }

    public X509Certificate2 SigningCertificate { get; }

    public ECDsa SigningKey { get; }

    /// <summary>A valid configuration-signing certificate the anchor does not list.</summary>
    public X509Certificate2 OtherSigningCertificate { get; }

    public ECDsa OtherSigningKey { get; }

    public X509Certificate2 OcspCertificate { get; }

    public X509Certificate2 TsaCertificate { get; }

    /// <summary>Authentication certificates of the three nodes in <see cref="Configuration"/>.</summary>
    public X509Certificate2[] NodeCertificates { get; }

    public ConfigurationAnchor Anchor { get; }

    public GlobalConfigurationSigner Signer { get; }

    public GlobalConfigurationSigner OtherSigner { get; }

    public GlobalConfigurationVerifier Verifier(GlobalConfigurationVerifierOptions? options = null) => new(Anchor, Clock, options);

    /// <summary>
    /// A valid configuration created now, expiring in 600 s: three members (one without
    /// subsystems), three nodes, a group with a member, a subsystem and a federated client.
    /// </summary>
    public GlobalConfiguration Configuration(ulong version = 1)
    {
        var now = Clock.GetUtcNow();
        return new GlobalConfiguration
        {
            Instance = Instance,
            Version = version,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
            ExpiresAt = Timestamp.FromDateTimeOffset(now.AddSeconds(600)),
            RegistryAddress = RegistryAddress,
            Parameters = new Parameters
            {
                RefreshIntervalSeconds = 60,
                ValiditySeconds = 600,
                OcspRefreshIntervalSeconds = 1200,
                OcspFreshnessSeconds = 3600,
                TimeStampingIntervalSeconds = 60,
                TimeStampingMaxBatch = 10_000,
                AcceptableTimeStampFailureSeconds = 14_400,
            },
            MemberClasses =
            {
                new MemberClass { Code = "GOV", Description = "Government" },
                new MemberClass { Code = "COM", Description = "Companies" },
            },
            Members =
            {
                new Member { MemberClass = "GOV", MemberCode = "000.00.00.G01", Name = "Ministry of Justice", Subsystems = { "dossier", "registry" } },
                new Member { MemberClass = "GOV", MemberCode = "000.00.00.H01", Name = "Ministry of Public Security", Subsystems = { "registry" } },
                new Member { MemberClass = "COM", MemberCode = "12345678", Name = "Example Ltd" },
            },
            Nodes =
            {
                Node("GOV", "000.00.00.G01", "node1", "node1.g01.vn.test:5500", 0),
                Node("GOV", "000.00.00.G01", "node2", "10.0.0.2:5500", 1),
                Node("GOV", "000.00.00.H01", "node1", "[2001:db8::1]:5500", 2),
            },
            GlobalGroups =
            {
                new GlobalGroup
                {
                    Code = "tax-authorities",
                    Description = "Who may ask for tax data",
                    Members = { "VN/GOV/000.00.00.G01", "VN/GOV/000.00.00.H01/registry", "EE/GOV/70000310" },
                },
                new GlobalGroup { Code = "empty", Description = "Nobody yet" },
            },
            CertificateAuthorities =
            {
                new Contracts.GlobalConf.V1.CertificateAuthority
                {
                    Name = "VN Test Root CA",
                    Certificate = ByteString.CopyFrom(Root.Certificate.RawData),
                    OcspUrl = "http://ocsp.vn.test/",
                    OcspCertificate = ByteString.CopyFrom(OcspCertificate.RawData),
                },
            },
            TimeStampingAuthorities =
            {
                new TimeStampingAuthority
                {
                    Name = "VN Test TSA",
                    Url = "http://tsa.vn.test/",
                    Certificate = ByteString.CopyFrom(TsaCertificate.RawData),
                },
            },
        };
    }

    /// <summary>The serialized envelope, signed by the anchor's key.</summary>
    public byte[] SignedBytes(GlobalConfiguration configuration) => Signer.Sign(configuration).ToByteArray();

    public (X509Certificate2 Certificate, ECDsa Key) Issue(CertificateProfile profile, string service, CertificateAuthority? issuer = null)
    {
        var key = EcKeys.GenerateP256();
        var certificate = (issuer ?? Root).Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService(Instance, "Test", service),
            PublicKey = new PublicKey(key),
            Profile = profile,
        });
        return (certificate, key);
    }

    public void Dispose()
    {
        Root.Dispose();
        TlsRoot.Dispose();
        SigningKey.Dispose();
        OtherSigningKey.Dispose();
    }

    private Node Node(string ownerClass, string ownerCode, string nodeCode, string address, int certificate) => new()
    {
        OwnerClass = ownerClass,
        OwnerCode = ownerCode,
        NodeCode = nodeCode,
        Address = address,
        AuthCertificateSha256 = ByteString.CopyFrom(SHA256.HashData(NodeCertificates[certificate].RawData)),
    };

    private X509Certificate2 IssueNode(int index)
    {
        using var key = EcKeys.GenerateP256();
        return Root.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.NodeAuthentication(Instance, "GOV", "000.00.00.G01", $"node{index}"),
            PublicKey = new PublicKey(key),
            Profile = CertificateProfile.NodeAuthentication,
            IpAddresses = [IPAddress.Loopback],
        });
    }
}
