// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf.Internal;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Core.GlobalConf;

public sealed partial class GlobalConfigurationView
{
    /// <summary>
    /// Validates and indexes in one pass: the dictionaries that find duplicates are the ones the
    /// view keeps, so a configuration of 100,000 subsystems is walked once, not twice.
    /// </summary>
    private sealed class Builder(GlobalConfiguration configuration)
    {
        private const string OcspSigningOid = "1.3.6.1.5.5.7.3.9";
        private const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";

        private readonly HashSet<string> memberClassCodes = new(StringComparer.Ordinal);
        private readonly HashSet<string> authorityNames = new(StringComparer.Ordinal);
        private readonly HashSet<byte[]> authorityCertificates = new(ByteKeyComparer.Instance);
        private readonly HashSet<string> timeStampingNames = new(StringComparer.Ordinal);

        public ProblemList Problems { get; } = new(GlobalConfErrors.InvalidContent);

        public string Instance => configuration.Instance;

        public ulong Version => configuration.Version;

        public DateTimeOffset CreatedAt { get; private set; }

        public DateTimeOffset ExpiresAt { get; private set; }

        public string? RegistryAddress { get; private set; }

        public List<string> RegistryAddresses { get; } = [];

        public GlobalConfigurationParameters? Parameters { get; private set; }

        public List<MemberClassEntry> MemberClasses { get; } = [];

        public Dictionary<MemberId, MemberEntry> Members { get; } = new(configuration.Members.Count);

        public HashSet<SubsystemId> Subsystems { get; } = new(configuration.Members.Sum(m => m.Subsystems.Count));

        public Dictionary<NodeId, NodeEntry> Nodes { get; } = new(configuration.Nodes.Count);

        public Dictionary<MemberId, List<NodeEntry>> NodesByOwner { get; } = [];

        public Dictionary<byte[], NodeEntry> NodesByAuthCertificate { get; } = new(configuration.Nodes.Count, ByteKeyComparer.Instance);

        public Dictionary<GlobalGroupId, GlobalGroupEntry> GlobalGroups { get; } = new(configuration.GlobalGroups.Count);

        public List<CertificateAuthorityEntry> CertificateAuthorities { get; } = [];

        public List<TimeStampingAuthorityEntry> TimeStampingAuthorities { get; } = [];

        public void Build()
        {
            var instanceError = IdentifierParts.CheckInstance(configuration.Instance);
            if (instanceError is not null)
            {
                Problems.Add("instance", instanceError.Message);
            }

            CheckHeader();
            CheckRegistryAddress();
            CheckParameters();
            AddCertificateAuthorities();
            AddTimeStampingAuthorities();

            // Every identifier below starts with the instance; with a bad instance each of them
            // would repeat the same problem thousands of times.
            if (instanceError is null)
            {
                AddMemberClasses();
                AddMembers();
                AddNodes();
                AddGlobalGroups();
            }
        }

        private static string Quote(string text) => IdentifierSyntax.Quote(text);

        private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        private void CheckHeader()
        {
            if (configuration.Version == 0)
            {
                Problems.Add("version", "The version must be at least 1 (0 means \"none\").");
            }

            var hasCreated = ProtoTime.TryRead(configuration.CreatedAt, out var createdAt);
            var hasExpires = ProtoTime.TryRead(configuration.ExpiresAt, out var expiresAt);
            if (!hasCreated)
            {
                Problems.Add("created_at", $"The creation time is {ProtoTime.Describe(configuration.CreatedAt)}.");
            }

            if (!hasExpires)
            {
                Problems.Add("expires_at", $"The expiry time is {ProtoTime.Describe(configuration.ExpiresAt)}.");
            }

            if (hasCreated && hasExpires)
            {
                if (expiresAt <= createdAt)
                {
                    Problems.Add("expires_at", Invariant($"The configuration expires ({expiresAt:O}) no later than it is created ({createdAt:O})."));
                }
                else if (configuration.Parameters is { ValiditySeconds: > 0 } parameters
                    && expiresAt - createdAt > TimeSpan.FromSeconds(parameters.ValiditySeconds))
                {
                    // Otherwise a configuration could outlive the validity every node was told,
                    // and the expiry that makes a stale node fail closed would mean nothing.
                    Problems.Add("expires_at", Invariant($"The configuration is valid for {expiresAt - createdAt}, longer than parameters.validity_seconds ({parameters.ValiditySeconds} s)."));
                }
            }

            CreatedAt = createdAt;
            ExpiresAt = expiresAt;
        }

        private void CheckRegistryAddress()
        {
            if (NetworkAddresses.TryParseRegistryAddress(configuration.RegistryAddress, out var address, out var reason))
            {
                RegistryAddress = address;
                RegistryAddresses.Add(address);
            }
            else
            {
                Problems.Add("registry_address", reason);
            }

            // Several instances: the list repeats registry_address first, then the others.
            for (var i = 0; i < configuration.RegistryAddresses.Count; i++)
            {
                if (!NetworkAddresses.TryParseRegistryAddress(configuration.RegistryAddresses[i], out var other, out var otherReason))
                {
                    Problems.Add($"registry_addresses[{i}]", otherReason);
                }
                else if (i == 0 && other != address)
                {
                    Problems.Add("registry_addresses[0]", "The first registry address must be registry_address.");
                }
                else if (i > 0 && !RegistryAddresses.Contains(other))
                {
                    RegistryAddresses.Add(other);
                }
            }
        }

        private void CheckParameters()
        {
            var p = configuration.Parameters;
            if (p is null)
            {
                Problems.Add("parameters", "The parameters are missing.");
                return;
            }

            var before = Problems.Count;
            CheckRange("parameters.refresh_interval_seconds", p.RefreshIntervalSeconds, ParameterLimits.RefreshInterval);
            CheckRange("parameters.validity_seconds", p.ValiditySeconds, ParameterLimits.Validity);
            CheckRange("parameters.ocsp_refresh_interval_seconds", p.OcspRefreshIntervalSeconds, ParameterLimits.OcspRefreshInterval);
            CheckRange("parameters.ocsp_freshness_seconds", p.OcspFreshnessSeconds, ParameterLimits.OcspFreshness);
            CheckRange("parameters.time_stamping_interval_seconds", p.TimeStampingIntervalSeconds, ParameterLimits.TimeStampingInterval);
            CheckRange("parameters.time_stamping_max_batch", p.TimeStampingMaxBatch, ParameterLimits.TimeStampingMaxBatch);
            CheckRange("parameters.acceptable_time_stamp_failure_seconds", p.AcceptableTimeStampFailureSeconds, ParameterLimits.AcceptableTimeStampFailure);

            // Relations that make the intervals work together: a node must get at least one retry
            // before its configuration expires, must refresh OCSP before peers find the response
            // stale, and must try to time-stamp before the failure period runs out.
            if ((ulong)p.ValiditySeconds < 2UL * p.RefreshIntervalSeconds)
            {
                Problems.Add("parameters.validity_seconds", Invariant($"The validity ({p.ValiditySeconds} s) must be at least twice the refresh interval ({p.RefreshIntervalSeconds} s)."));
            }

            if (p.OcspFreshnessSeconds < p.OcspRefreshIntervalSeconds)
            {
                Problems.Add("parameters.ocsp_freshness_seconds", Invariant($"The OCSP freshness limit ({p.OcspFreshnessSeconds} s) must be at least the OCSP refresh interval ({p.OcspRefreshIntervalSeconds} s)."));
            }

            if (p.AcceptableTimeStampFailureSeconds < p.TimeStampingIntervalSeconds)
            {
                Problems.Add("parameters.acceptable_time_stamp_failure_seconds", Invariant($"The acceptable time-stamp failure period ({p.AcceptableTimeStampFailureSeconds} s) must be at least the time-stamping interval ({p.TimeStampingIntervalSeconds} s)."));
            }

            if (Problems.Count == before)
            {
                Parameters = new GlobalConfigurationParameters
                {
                    RefreshInterval = TimeSpan.FromSeconds(p.RefreshIntervalSeconds),
                    Validity = TimeSpan.FromSeconds(p.ValiditySeconds),
                    OcspRefreshInterval = TimeSpan.FromSeconds(p.OcspRefreshIntervalSeconds),
                    OcspFreshness = TimeSpan.FromSeconds(p.OcspFreshnessSeconds),
                    TimeStampingInterval = TimeSpan.FromSeconds(p.TimeStampingIntervalSeconds),
                    TimeStampingMaxBatch = (int)p.TimeStampingMaxBatch,
                    AcceptableTimeStampFailure = TimeSpan.FromSeconds(p.AcceptableTimeStampFailureSeconds),
                };
            }
        }

        private void CheckRange(string path, uint value, (uint Min, uint Max) range)
        {
            if (value < range.Min || value > range.Max)
            {
                Problems.Add(path, Invariant($"{value} is outside the accepted range {range.Min}..{range.Max}."));
            }
        }

        private void AddMemberClasses()
        {
            for (var i = 0; i < configuration.MemberClasses.Count; i++)
            {
                var memberClass = configuration.MemberClasses[i];
                var error = IdentifierParts.CheckMemberClass(memberClass.Code);
                if (error is not null)
                {
                    Problems.Add(Invariant($"member_classes[{i}].code"), error.Message);
                }
                else if (!memberClassCodes.Add(memberClass.Code))
                {
                    Problems.Add(Invariant($"member_classes[{i}].code"), $"Member class {memberClass.Code} is listed more than once.");
                }
                else
                {
                    MemberClasses.Add(new MemberClassEntry(memberClass.Code, memberClass.Description));
                }
            }
        }

        private void AddMembers()
        {
            for (var i = 0; i < configuration.Members.Count; i++)
            {
                var member = configuration.Members[i];
                MemberId id;
                try
                {
                    id = MemberId.Create(Instance, member.MemberClass, member.MemberCode);
                }
                catch (IdentifierFormatException ex)
                {
                    Problems.Add(Invariant($"members[{i}]"), ex.Message);
                    continue;
                }

                // Checked first, so that a repeated member is one problem, not one per subsystem.
                if (Members.ContainsKey(id))
                {
                    Problems.Add(Invariant($"members[{i}]"), $"Member {id} is listed more than once.");
                    continue;
                }

                if (!memberClassCodes.Contains(id.MemberClass))
                {
                    Problems.Add(Invariant($"members[{i}].member_class"), $"Member {id} is of class {id.MemberClass}, which member_classes does not list.");
                }

                if (string.IsNullOrWhiteSpace(member.Name))
                {
                    Problems.Add(Invariant($"members[{i}].name"), $"Member {id} has no name.");
                }

                var subsystemIds = new SubsystemId[member.Subsystems.Count];
                var count = 0;
                for (var j = 0; j < member.Subsystems.Count; j++)
                {
                    SubsystemId subsystem;
                    try
                    {
                        subsystem = SubsystemId.Create(id, member.Subsystems[j]);
                    }
                    catch (IdentifierFormatException ex)
                    {
                        Problems.Add(Invariant($"members[{i}].subsystems[{j}]"), ex.Message);
                        continue;
                    }

                    if (!Subsystems.Add(subsystem))
                    {
                        Problems.Add(Invariant($"members[{i}].subsystems[{j}]"), $"Subsystem {subsystem} is listed more than once.");
                        continue;
                    }

                    subsystemIds[count++] = subsystem;
                }

                if (count != subsystemIds.Length)
                {
                    Array.Resize(ref subsystemIds, count);
                }

                Members.Add(id, new MemberEntry(id, member.Name, subsystemIds.AsReadOnly()));
            }
        }

        private void AddNodes()
        {
            for (var i = 0; i < configuration.Nodes.Count; i++)
            {
                var node = configuration.Nodes[i];
                NodeId id;
                try
                {
                    id = NodeId.Create(MemberId.Create(Instance, node.OwnerClass, node.OwnerCode), node.NodeCode);
                }
                catch (IdentifierFormatException ex)
                {
                    Problems.Add(Invariant($"nodes[{i}]"), ex.Message);
                    continue;
                }

                var valid = true;
                if (!Members.ContainsKey(id.Owner))
                {
                    Problems.Add(Invariant($"nodes[{i}]"), $"Node {id} is owned by {id.Owner}, which is not a member.");
                    valid = false;
                }

                if (!NetworkAddresses.TryParseHostPort(node.Address, out var host, out var port, out var reason))
                {
                    Problems.Add(Invariant($"nodes[{i}].address"), $"Node {id}: {reason}");
                    valid = false;
                }

                var hash = node.AuthCertificateSha256.ToByteArray();
                if (hash.Length != SHA256.HashSizeInBytes)
                {
                    Problems.Add(Invariant($"nodes[{i}].auth_certificate_sha256"), Invariant($"Node {id}: the certificate hash is {hash.Length} bytes, not {SHA256.HashSizeInBytes}."));
                    valid = false;
                }

                if (!valid)
                {
                    continue;
                }

                var entry = new NodeEntry(id, node.Address, host!, port, hash);
                if (!Nodes.TryAdd(id, entry))
                {
                    Problems.Add(Invariant($"nodes[{i}]"), $"Node {id} is listed more than once.");
                    continue;
                }

                // One certificate, one node: otherwise a TLS peer could not be told apart.
                if (!NodesByAuthCertificate.TryAdd(hash, entry))
                {
                    Problems.Add(Invariant($"nodes[{i}].auth_certificate_sha256"), $"Node {id} has the same authentication certificate as node {NodesByAuthCertificate[hash].Id}.");
                    continue;
                }

                if (!NodesByOwner.TryGetValue(id.Owner, out var owned))
                {
                    owned = new List<NodeEntry>(1);
                    NodesByOwner.Add(id.Owner, owned);
                }

                owned.Add(entry);
            }
        }

        private void AddGlobalGroups()
        {
            for (var i = 0; i < configuration.GlobalGroups.Count; i++)
            {
                var group = configuration.GlobalGroups[i];
                GlobalGroupId id;
                try
                {
                    id = GlobalGroupId.Create(Instance, group.Code);
                }
                catch (IdentifierFormatException ex)
                {
                    Problems.Add(Invariant($"global_groups[{i}].code"), ex.Message);
                    continue;
                }

                var groupMembers = new HashSet<ClientId>(group.Members.Count);
                for (var j = 0; j < group.Members.Count; j++)
                {
                    if (!ClientId.TryParse(group.Members[j], out var client, out var error))
                    {
                        Problems.Add(Invariant($"global_groups[{i}].members[{j}]"), error.Message);
                        continue;
                    }

                    // A client that is not (or no longer) registered is not a problem: the registry
                    // leaves disabled members out of the configuration but keeps their group
                    // memberships, and refusing that would stop every node over one disabled
                    // member. Such a client cannot call anyway; nodes check ClientExists first.
                    if (!groupMembers.Add(client))
                    {
                        Problems.Add(Invariant($"global_groups[{i}].members[{j}]"), $"Group {id} lists {client} more than once.");
                    }
                }

                if (!GlobalGroups.TryAdd(id, new GlobalGroupEntry(id, group.Description, groupMembers)))
                {
                    Problems.Add(Invariant($"global_groups[{i}].code"), $"Group {id} is listed more than once.");
                }
            }
        }

        private void AddCertificateAuthorities()
        {
            for (var i = 0; i < configuration.CertificateAuthorities.Count; i++)
            {
                var authority = configuration.CertificateAuthorities[i];
                var path = Invariant($"certificate_authorities[{i}]");
                var valid = CheckName(path, authority.Name, authorityNames, "certificate authority");

                var certificate = LoadDer(path + ".certificate", authority.Certificate.Span);
                if (certificate is not null)
                {
                    if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
                    {
                        Problems.Add(path + ".certificate", "The certificate is not a CA certificate (basicConstraints CA).");
                        valid = false;
                    }

                    if (EcKeys.CheckP256(certificate.PublicKey) is { } keyError)
                    {
                        Problems.Add(path + ".certificate", keyError.Message);
                        valid = false;
                    }

                    if (!authorityCertificates.Add(SHA256.HashData(certificate.RawData)))
                    {
                        Problems.Add(path + ".certificate", "The certificate is listed more than once.");
                        valid = false;
                    }
                }

                if (!NetworkAddresses.TryParseServiceUrl(authority.OcspUrl, out var ocspUrl, out var reason))
                {
                    Problems.Add(path + ".ocsp_url", reason);
                    valid = false;
                }

                X509Certificate2? ocspCertificate = null;
                if (!authority.OcspCertificate.IsEmpty)
                {
                    ocspCertificate = LoadDer(path + ".ocsp_certificate", authority.OcspCertificate.Span);
                    if (ocspCertificate is not null)
                    {
                        if (certificate is not null && !ocspCertificate.IssuerName.RawData.AsSpan().SequenceEqual(certificate.SubjectName.RawData))
                        {
                            Problems.Add(path + ".ocsp_certificate", "The OCSP responder certificate is not issued by this authority.");
                            valid = false;
                        }

                        if (!HasExtendedKeyUsage(ocspCertificate, OcspSigningOid))
                        {
                            Problems.Add(path + ".ocsp_certificate", "The OCSP responder certificate lacks the OCSPSigning extended key usage.");
                            valid = false;
                        }
                    }
                }

                if (valid && certificate is not null && ocspUrl is not null && (ocspCertificate is not null || authority.OcspCertificate.IsEmpty))
                {
                    CertificateAuthorities.Add(new CertificateAuthorityEntry(authority.Name, certificate, ocspUrl, ocspCertificate));
                }
            }
        }

        private void AddTimeStampingAuthorities()
        {
            for (var i = 0; i < configuration.TimeStampingAuthorities.Count; i++)
            {
                var authority = configuration.TimeStampingAuthorities[i];
                var path = Invariant($"time_stamping_authorities[{i}]");
                var valid = CheckName(path, authority.Name, timeStampingNames, "time-stamping authority");

                if (!NetworkAddresses.TryParseServiceUrl(authority.Url, out var url, out var reason))
                {
                    Problems.Add(path + ".url", reason);
                    valid = false;
                }

                var certificate = LoadDer(path + ".certificate", authority.Certificate.Span);
                if (certificate is not null && !HasExtendedKeyUsage(certificate, TimeStampingOid))
                {
                    Problems.Add(path + ".certificate", "The certificate lacks the timeStamping extended key usage.");
                    valid = false;
                }

                if (valid && url is not null && certificate is not null)
                {
                    TimeStampingAuthorities.Add(new TimeStampingAuthorityEntry(authority.Name, url, certificate));
                }
            }
        }

        private bool CheckName(string path, string name, HashSet<string> seen, string what)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                Problems.Add(path + ".name", $"The {what} has no name.");
                return false;
            }

            if (!seen.Add(name))
            {
                Problems.Add(path + ".name", $"The {what} name \"{Quote(name)}\" is used more than once.");
                return false;
            }

            return true;
        }

        private X509Certificate2? LoadDer(string path, ReadOnlySpan<byte> der)
        {
            if (der.IsEmpty)
            {
                Problems.Add(path, "The certificate is missing.");
                return null;
            }

            try
            {
                return DerCertificate.Load(der);
            }
            catch (CryptographicException)
            {
                // Reported below without the platform's message, which can quote the input.
            }

            Problems.Add(path, "The certificate is not a DER-encoded X.509 certificate.");
            return null;
        }

        private static bool HasExtendedKeyUsage(X509Certificate2 certificate, string oid) =>
            certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
                .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => string.Equals(o.Value, oid, StringComparison.Ordinal)));
    }
}
