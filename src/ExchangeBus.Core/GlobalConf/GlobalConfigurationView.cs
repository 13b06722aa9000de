// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf.Internal;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.TrustServices;
using Google.Protobuf;

namespace ExchangeBus.Core.GlobalConf;

/// <summary>
/// An immutable, indexed view of one validated global configuration, for the lookups a node makes
/// on every call: is this client registered, which nodes does that member run, whose node is this
/// TLS peer, is this client in that group.
/// </summary>
/// <remarks>
/// <para>
/// Built once per configuration version and then only read, from any number of threads: the
/// dictionaries are never written after construction, which makes concurrent reads safe. A node
/// swaps in a new view when a newer configuration verifies.
/// </para>
/// <para>
/// The view is not <see cref="IDisposable"/>: its certificates are public, and readers may still
/// hold the old view while a new one is swapped in, so they are left to the garbage collector.
/// </para>
/// </remarks>
public sealed partial class GlobalConfigurationView
{
    private readonly byte[] configurationSha256;
    private readonly Dictionary<MemberId, MemberEntry> members;
    private readonly HashSet<SubsystemId> subsystems;
    private readonly Dictionary<NodeId, NodeEntry> nodes;
    private readonly Dictionary<MemberId, NodeEntry[]> nodesByOwner;
    private readonly Dictionary<byte[], NodeEntry>.AlternateLookup<ReadOnlySpan<byte>> nodesByAuthCertificate;
    private readonly Dictionary<GlobalGroupId, GlobalGroupEntry> globalGroups;

    private GlobalConfigurationView(Builder builder, byte[] configurationSha256)
    {
        this.configurationSha256 = configurationSha256;
        Instance = builder.Instance;
        Version = builder.Version;
        CreatedAt = builder.CreatedAt;
        ExpiresAt = builder.ExpiresAt;
        RegistryAddress = builder.RegistryAddress!;
        RegistryAddresses = builder.RegistryAddresses.AsReadOnly();
        Parameters = builder.Parameters!;
        MemberClasses = builder.MemberClasses.AsReadOnly();
        members = builder.Members;
        subsystems = builder.Subsystems;
        nodes = builder.Nodes;
        nodesByOwner = builder.NodesByOwner.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray());
        nodesByAuthCertificate = builder.NodesByAuthCertificate.GetAlternateLookup<ReadOnlySpan<byte>>();
        globalGroups = builder.GlobalGroups;
        CertificateAuthorities = builder.CertificateAuthorities.AsReadOnly();
        TrustedCertificateAuthorities = builder.CertificateAuthorities.Select(ca => ca.Certificate).ToList().AsReadOnly();
        TimeStampingAuthorities = builder.TimeStampingAuthorities.AsReadOnly();
    }

    public string Instance { get; }

    public ulong Version { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>From this instant on the configuration must not be used (<see cref="GlobalConfErrors.OutdatedGlobalConf"/>).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The registry address from the configuration, normalized to <c>https://host:port</c>.</summary>
    public string RegistryAddress { get; }

    /// <summary>
    /// Every registry instance's address, normalized, <see cref="RegistryAddress"/> first, without
    /// repeats; that one alone when the configuration lists no others.
    /// </summary>
    public IReadOnlyList<string> RegistryAddresses { get; }

    /// <summary>
    /// SHA-256 (lower-case hex) of the configuration bytes the view was verified from, for logs and
    /// audit events; for a view made by <see cref="TryCreate"/>, of the message's serialization.
    /// </summary>
    public string ConfigurationSha256 => Convert.ToHexStringLower(configurationSha256);

    public GlobalConfigurationParameters Parameters { get; }

    public IReadOnlyList<MemberClassEntry> MemberClasses { get; }

    public IReadOnlyCollection<MemberEntry> Members => members.Values;

    public IReadOnlyCollection<NodeEntry> Nodes => nodes.Values;

    public IReadOnlyCollection<GlobalGroupEntry> GlobalGroups => globalGroups.Values;

    public IReadOnlyList<CertificateAuthorityEntry> CertificateAuthorities { get; }

    /// <summary>The certificate authorities' certificates: the trust roots for member and node certificates.</summary>
    public IReadOnlyList<X509Certificate2> TrustedCertificateAuthorities { get; }

    public IReadOnlyList<TimeStampingAuthorityEntry> TimeStampingAuthorities { get; }

    internal ReadOnlySpan<byte> ConfigurationSha256Bytes => configurationSha256;

    /// <summary>
    /// Checks <paramref name="configuration"/> and indexes it, without a signature: for the
    /// registry to call before signing, so it never publishes what every node would refuse.
    /// Every content problem is reported (up to a bound), not only the first.
    /// </summary>
    public static bool TryCreate(
        GlobalConfiguration configuration,
        [NotNullWhen(true)] out GlobalConfigurationView? view,
        out IReadOnlyList<GlobalConfError> problems)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        view = Create(configuration, SHA256.HashData(configuration.ToByteArray()), out problems);
        return view is not null;
    }

    /// <summary>True from <see cref="ExpiresAt"/> on: a node then refuses to serve with <see cref="GlobalConfErrors.OutdatedGlobalConf"/>.</summary>
    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;

    public MemberEntry? FindMember(MemberId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return members.GetValueOrDefault(id);
    }

    public bool SubsystemExists(SubsystemId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return subsystems.Contains(id);
    }

    /// <summary>True when the client (a member, or a subsystem of one) is registered.</summary>
    public bool ClientExists(ClientId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id.IsSubsystem ? subsystems.Contains(id.Subsystem) : members.ContainsKey(id.Member);
    }

    public NodeEntry? FindNode(NodeId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return nodes.GetValueOrDefault(id);
    }

    /// <summary>The nodes <paramref name="owner"/> runs, in configuration order, for failover; empty when none.</summary>
    public IReadOnlyList<NodeEntry> NodesOf(MemberId owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return nodesByOwner.TryGetValue(owner, out var list) ? list : [];
    }

    /// <summary>The node whose authentication certificate has this SHA-256, or null.</summary>
    public NodeEntry? FindNodeByAuthCertificateSha256(ReadOnlySpan<byte> sha256)
    {
        return nodesByAuthCertificate.TryGetValue(sha256, out var node) ? node : null;
    }

    /// <summary>The node that presents <paramref name="certificate"/> (a TLS peer's), or null.</summary>
    public NodeEntry? FindNodeByAuthCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Span<byte> sha256 = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(certificate.RawData, sha256);
        return FindNodeByAuthCertificateSha256(sha256);
    }

    /// <summary>
    /// How to judge an OCSP response about a certificate <paramref name="issuer"/> issued: no older
    /// than the configuration's freshness limit, and signed by the CA itself or by the responder
    /// certificate this configuration lists for it. The registry lists a responder only while its
    /// certificate is good, so one it revoked is refused from the next configuration on.
    /// </summary>
    public OcspVerifierOptions OcspVerifierOptionsFor(X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var authority = CertificateAuthorities.FirstOrDefault(ca => ca.Certificate.RawData.AsSpan().SequenceEqual(issuer.RawData));
        return new OcspVerifierOptions
        {
            FreshnessLimit = Parameters.OcspFreshness,
            DelegatedResponders = authority?.OcspCertificate is { } responder ? [responder] : [],
        };
    }

    public GlobalGroupEntry? FindGlobalGroup(GlobalGroupId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return globalGroups.GetValueOrDefault(id);
    }

    /// <summary>True when the group exists and lists exactly <paramref name="client"/>.</summary>
    public bool IsInGlobalGroup(GlobalGroupId group, ClientId client)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(client);
        return globalGroups.TryGetValue(group, out var entry) && entry.Contains(client);
    }

    public override string ToString() => $"{Instance} global configuration version {Version}, expires {ExpiresAt:O}";

    /// <summary>True when the version and both times are present and readable, the minimum to decide anything by.</summary>
    internal static bool TryReadHeader(GlobalConfiguration configuration, out DateTimeOffset createdAt, out DateTimeOffset expiresAt)
    {
        var hasCreated = ProtoTime.TryRead(configuration.CreatedAt, out createdAt);
        var hasExpires = ProtoTime.TryRead(configuration.ExpiresAt, out expiresAt);
        return hasCreated && hasExpires && configuration.Version > 0;
    }

    internal static GlobalConfigurationView? Create(
        GlobalConfiguration configuration, byte[] configurationSha256, out IReadOnlyList<GlobalConfError> problems)
    {
        var builder = new Builder(configuration);
        builder.Build();
        problems = builder.Problems.ToList();
        return builder.Problems.Count == 0 ? new GlobalConfigurationView(builder, configurationSha256) : null;
    }
}
