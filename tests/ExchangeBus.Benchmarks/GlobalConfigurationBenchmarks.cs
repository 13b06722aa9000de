// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using CertificateAuthority = ExchangeBus.Core.Pki.CertificateAuthority;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// The global configuration at national scale: 10,000 members with 10 subsystems each
/// (100,000 subsystems), 1,000 nodes and a few global groups. The registry's side is "build the
/// message from its model, serialize, sign"; a node's side is "verify, parse, index". Serialize
/// and parse alone are the baselines that show what the bus adds on top of protobuf.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*GlobalConfiguration*' --job short</c>.
/// The serialized size is printed by the setup (look for "Serialized configuration").
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class GlobalConfigurationBenchmarks
{
    private const int MemberCount = 10_000;
    private const int SubsystemsPerMember = 10;
    private const int NodeOwners = 500;
    private const int NodesPerOwner = 2;

    private static readonly string[] SubsystemNames =
        ["dossier", "registry", "tax", "health", "land", "civil-status", "residence", "business", "education", "social-insurance"];

    private CertificateAuthority root = null!;
    private ECDsa signingKey = null!;
    private X509Certificate2 signingCertificate = null!;
    private X509Certificate2 tlsRootCertificate = null!;
    private GlobalConfigurationSigner signer = null!;
    private GlobalConfigurationVerifier verifier = null!;
    private RegistryModel model = null!;
    private GlobalConfiguration message = null!;
    private byte[] configurationBytes = null!;
    private byte[] signedBytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        var clock = TimeProvider.System;
        root = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Bench", "Root CA"), clock);
        signingKey = EcKeys.GenerateP256();
        signingCertificate = root.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("VN", "Bench", "Configuration signing"),
            PublicKey = new PublicKey(signingKey),
            Profile = CertificateProfile.ConfigurationSigning,
        });
        using var tlsRoot = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Bench", "TLS Root CA"), clock);
        tlsRootCertificate = X509CertificateLoader.LoadCertificate(tlsRoot.Certificate.RawData);

        signer = new GlobalConfigurationSigner(signingCertificate, signingKey);
        var anchor = ConfigurationAnchor.Create("VN", "https://registry.vn.test:4443", [signingCertificate], [tlsRootCertificate], clock.GetUtcNow());
        verifier = new GlobalConfigurationVerifier(anchor, clock);

        model = RegistryModel.Create(root, clock.GetUtcNow());
        message = model.ToMessage(version: 1);
        configurationBytes = message.ToByteArray();
        signedBytes = signer.Sign(message).ToByteArray();

        var check = verifier.Verify(signedBytes, installed: null);
        if (!check.IsValid)
        {
            throw new InvalidOperationException("The benchmark configuration does not verify: " + check);
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"// Serialized configuration: {configurationBytes.Length} bytes; signed envelope: {signedBytes.Length} bytes; " +
            $"{check.View.Members.Count} members, {check.View.Members.Sum(m => m.Subsystems.Count)} subsystems, {check.View.Nodes.Count} nodes, {check.View.GlobalGroups.Count} groups"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        root.Dispose();
        signingKey.Dispose();
        signingCertificate.Dispose();
        tlsRootCertificate.Dispose();
    }

    /// <summary>The registry publishing: model objects to message, serialize once, sign.</summary>
    [Benchmark]
    public SignedGlobalConfiguration BuildSerializeSign() => signer.Sign(model.ToMessage(version: 2));

    /// <summary>A node taking a new configuration: size, signer, signature, parse, content checks, indexes.</summary>
    [Benchmark]
    public GlobalConfigurationView VerifyParseBuildView() =>
        verifier.Verify(signedBytes, installed: null).View ?? throw new InvalidOperationException("Did not verify.");

    [Benchmark(Baseline = true)]
    public byte[] SerializeOnly() => message.ToByteArray();

    [Benchmark]
    public GlobalConfiguration ParseOnly() => GlobalConfiguration.Parser.ParseFrom(configurationBytes);

    /// <summary>What a registry holds in memory: identifiers already parsed, as its store returns them.</summary>
    private sealed class RegistryModel
    {
        private readonly DateTimeOffset now;
        private readonly List<(MemberId Id, string Name, List<string> Subsystems)> members = [];
        private readonly List<(NodeId Id, string Address, byte[] AuthCertificateSha256)> nodes = [];
        private readonly List<(GlobalGroupId Id, string Description, List<ClientId> Members)> groups = [];
        private readonly byte[] caCertificate;
        private readonly byte[] ocspCertificate;
        private readonly byte[] tsaCertificate;

        private RegistryModel(DateTimeOffset now, byte[] caCertificate, byte[] ocspCertificate, byte[] tsaCertificate)
        {
            this.now = now;
            this.caCertificate = caCertificate;
            this.ocspCertificate = ocspCertificate;
            this.tsaCertificate = tsaCertificate;
        }

        public static RegistryModel Create(CertificateAuthority root, DateTimeOffset now)
        {
            var model = new RegistryModel(
                now,
                root.Certificate.RawData,
                IssueDer(root, CertificateProfile.OcspSigning, "OCSP"),
                IssueDer(root, CertificateProfile.TimeStamping, "TSA"));

            for (var i = 0; i < MemberCount; i++)
            {
                var memberClass = i % 10 == 0 ? "COM" : "GOV";
                var id = MemberId.Create("VN", memberClass, string.Create(CultureInfo.InvariantCulture, $"000.{i / 1000:00}.{i / 100 % 10:0}0.G{i:00000}"));
                var subsystems = SubsystemNames.Take(SubsystemsPerMember).ToList();
                model.members.Add((id, string.Create(CultureInfo.InvariantCulture, $"Department of Public Services No. {i}"), subsystems));
            }

            for (var i = 0; i < NodeOwners; i++)
            {
                for (var k = 1; k <= NodesPerOwner; k++)
                {
                    var owner = model.members[i * (MemberCount / NodeOwners)].Id;
                    var id = NodeId.Create(owner, string.Create(CultureInfo.InvariantCulture, $"node{k}"));
                    var address = string.Create(CultureInfo.InvariantCulture, $"node{k}.m{i:0000}.gov.vn.test:5500");
                    model.nodes.Add((id, address, SHA256.HashData(BitConverter.GetBytes((i * NodesPerOwner) + k))));
                }
            }

            model.groups.Add((GlobalGroupId.Create("VN", "ministries"), "All ministries",
                model.members.Take(1000).Select(m => ClientId.FromMemberId(m.Id)).ToList()));
            model.groups.Add((GlobalGroupId.Create("VN", "tax-readers"), "May read tax data",
                model.members.Skip(1000).Take(500).Select(m => ClientId.FromSubsystemId(SubsystemId.Create(m.Id, "tax"))).ToList()));
            model.groups.Add((GlobalGroupId.Create("VN", "health-readers"), "May read health data",
                model.members.Skip(2000).Take(200).Select(m => ClientId.FromSubsystemId(SubsystemId.Create(m.Id, "health"))).ToList()));
            model.groups.Add((GlobalGroupId.Create("VN", "pilot"), "Pilot agencies", []));
            return model;
        }

        public GlobalConfiguration ToMessage(ulong version)
        {
            var configuration = new GlobalConfiguration
            {
                Instance = "VN",
                Version = version,
                CreatedAt = Timestamp.FromDateTimeOffset(now),
                ExpiresAt = Timestamp.FromDateTimeOffset(now.AddDays(1)),
                RegistryAddress = "https://registry.vn.test:4443",
                Parameters = new Parameters
                {
                    RefreshIntervalSeconds = 60,
                    ValiditySeconds = 86_400,
                    OcspRefreshIntervalSeconds = 1200,
                    OcspFreshnessSeconds = 3600,
                    TimeStampingIntervalSeconds = 60,
                    TimeStampingMaxBatch = 10_000,
                    AcceptableTimeStampFailureSeconds = 14_400,
                },
                MemberClasses =
                {
                    new MemberClass { Code = "GOV", Description = "Government agencies" },
                    new MemberClass { Code = "COM", Description = "Companies" },
                },
                CertificateAuthorities =
                {
                    new Contracts.GlobalConf.V1.CertificateAuthority
                    {
                        Name = "VN Root CA",
                        Certificate = ByteString.CopyFrom(caCertificate),
                        OcspUrl = "http://ocsp.vn.test/",
                        OcspCertificate = ByteString.CopyFrom(ocspCertificate),
                    },
                },
                TimeStampingAuthorities =
                {
                    new TimeStampingAuthority { Name = "VN TSA", Url = "http://tsa.vn.test/", Certificate = ByteString.CopyFrom(tsaCertificate) },
                },
            };

            foreach (var (id, name, subsystems) in members)
            {
                var member = new Member { MemberClass = id.MemberClass, MemberCode = id.MemberCode, Name = name };
                member.Subsystems.AddRange(subsystems);
                configuration.Members.Add(member);
            }

            foreach (var (id, address, hash) in nodes)
            {
                configuration.Nodes.Add(new ExchangeBus.Contracts.GlobalConf.V1.Node
                {
                    OwnerClass = id.Owner.MemberClass,
                    OwnerCode = id.Owner.MemberCode,
                    NodeCode = id.NodeCode,
                    Address = address,
                    AuthCertificateSha256 = ByteString.CopyFrom(hash),
                });
            }

            foreach (var (id, description, clients) in groups)
            {
                var group = new GlobalGroup { Code = id.GroupCode, Description = description };
                group.Members.AddRange(clients.Select(c => c.ToString()));
                configuration.GlobalGroups.Add(group);
            }

            return configuration;
        }

        private static byte[] IssueDer(CertificateAuthority root, CertificateProfile profile, string service)
        {
            using var key = EcKeys.GenerateP256();
            using var certificate = root.Issue(new CertificateIssueRequest
            {
                Subject = CertificateNames.CentralService("VN", "Bench", service),
                PublicKey = new PublicKey(key),
                Profile = profile,
            });
            return certificate.RawData;
        }
    }
}
