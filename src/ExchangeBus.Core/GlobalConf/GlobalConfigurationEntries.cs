// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.GlobalConf;

// The parts of a verified configuration as a node uses them: identifiers already parsed, times
// already TimeSpans. Classes rather than records where they hold collections or bytes, because
// record equality on those would compare references and promise more than it gives.

/// <summary>A member class (<c>GOV</c>, <c>COM</c>, ...).</summary>
public sealed record MemberClassEntry(string Code, string Description);

/// <summary>A member and the subsystems registered for it.</summary>
public sealed class MemberEntry
{
    internal MemberEntry(MemberId id, string name, IReadOnlyList<SubsystemId> subsystems)
    {
        Id = id;
        Name = name;
        Subsystems = subsystems;
    }

    public MemberId Id { get; }

    /// <summary>The member's name, for display only; it identifies nothing.</summary>
    public string Name { get; }

    public IReadOnlyList<SubsystemId> Subsystems { get; }

    public override string ToString() => Id.ToString();
}

/// <summary>A node (security server), where it listens and which TLS certificate it presents.</summary>
public sealed class NodeEntry
{
    private readonly byte[] authCertificateSha256;

    internal NodeEntry(NodeId id, string address, string host, int port, byte[] authCertificateSha256)
    {
        Id = id;
        Address = address;
        Host = host;
        Port = port;
        this.authCertificateSha256 = authCertificateSha256;
    }

    public NodeId Id { get; }

    /// <summary>The inter-node listener as published, <c>host:port</c>.</summary>
    public string Address { get; }

    /// <summary>The host part of <see cref="Address"/> (IPv6 addresses keep their brackets).</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>SHA-256 of the DER of the node's current authentication certificate.</summary>
    public ReadOnlySpan<byte> AuthCertificateSha256 => authCertificateSha256;

    public override string ToString() => $"{Id} at {Address}";
}

/// <summary>A global group: a named set of clients that access rights can be granted to.</summary>
public sealed class GlobalGroupEntry
{
    private readonly HashSet<ClientId> members;

    internal GlobalGroupEntry(GlobalGroupId id, string description, HashSet<ClientId> members)
    {
        Id = id;
        Description = description;
        this.members = members;
    }

    public GlobalGroupId Id { get; }

    public string Description { get; }

    public IReadOnlyCollection<ClientId> Members => members;

    /// <summary>
    /// True when exactly <paramref name="client"/> is listed. As in X-Road, listing a member does
    /// not include its subsystems, nor the other way round.
    /// </summary>
    public bool Contains(ClientId client) => members.Contains(client);

    public override string ToString() => Id.ToString();
}

/// <summary>A certificate authority members' and nodes' certificates must chain to, with its OCSP responder.</summary>
public sealed class CertificateAuthorityEntry
{
    internal CertificateAuthorityEntry(string name, X509Certificate2 certificate, Uri ocspUrl, X509Certificate2? ocspCertificate)
    {
        Name = name;
        Certificate = certificate;
        OcspUrl = ocspUrl;
        OcspCertificate = ocspCertificate;
    }

    public string Name { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>The RFC 6960 responder for certificates this authority issued.</summary>
    public Uri OcspUrl { get; }

    /// <summary>The delegated responder's certificate, or null when the authority signs its responses itself.</summary>
    public X509Certificate2? OcspCertificate { get; }

    public override string ToString() => Name;
}

/// <summary>An RFC 3161 time-stamping authority nodes may use.</summary>
public sealed class TimeStampingAuthorityEntry
{
    internal TimeStampingAuthorityEntry(string name, Uri url, X509Certificate2 certificate)
    {
        Name = name;
        Url = url;
        Certificate = certificate;
    }

    public string Name { get; }

    /// <summary>Where to POST <c>application/timestamp-query</c>.</summary>
    public Uri Url { get; }

    public X509Certificate2 Certificate { get; }

    public override string ToString() => Name;
}

/// <summary>The instance-wide parameters, as durations.</summary>
public sealed record GlobalConfigurationParameters
{
    /// <summary>How often nodes fetch the configuration (X-Road: 60 s).</summary>
    public required TimeSpan RefreshInterval { get; init; }

    /// <summary>How long a configuration is valid after it is created (X-Road: 600 s).</summary>
    public required TimeSpan Validity { get; init; }

    /// <summary>How often a node fetches OCSP responses for its own certificates (X-Road: 1200 s).</summary>
    public required TimeSpan OcspRefreshInterval { get; init; }

    /// <summary>The oldest OCSP response a peer accepts (X-Road: 3600 s).</summary>
    public required TimeSpan OcspFreshness { get; init; }

    /// <summary>How often a node time-stamps its message log (X-Road: 60 s).</summary>
    public required TimeSpan TimeStampingInterval { get; init; }

    /// <summary>At most this many log records per time-stamp (X-Road: 10,000).</summary>
    public required int TimeStampingMaxBatch { get; init; }

    /// <summary>How long time-stamping may fail before a node stops accepting exchanges (X-Road: 4 h).</summary>
    public required TimeSpan AcceptableTimeStampFailure { get; init; }
}
