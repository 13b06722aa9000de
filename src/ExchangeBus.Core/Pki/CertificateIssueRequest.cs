// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>What to certify: a subject, its public key and the profile that decides the extensions.</summary>
public sealed record CertificateIssueRequest
{
    public required X500DistinguishedName Subject { get; init; }

    /// <summary>Must be ECDSA P-256 on the named curve.</summary>
    public required PublicKey PublicKey { get; init; }

    public required CertificateProfile Profile { get; init; }

    /// <summary>How long from now; null takes the profile's default. Never beyond the issuer's own expiry.</summary>
    public TimeSpan? Validity { get; init; }

    /// <summary>DNS names for the subjectAltName of TLS profiles.</summary>
    public IReadOnlyList<string> DnsNames { get; init; } = [];

    /// <summary>IP addresses for the subjectAltName of TLS profiles.</summary>
    public IReadOnlyList<IPAddress> IpAddresses { get; init; } = [];

    /// <summary>
    /// A request for the key and subject of a verified CSR. Only the subject and key are taken from
    /// it; extensions the requester asked for are not (the profile decides).
    /// </summary>
    public static CertificateIssueRequest FromCsr(ParsedCsr csr, CertificateProfile profile)
    {
        ArgumentNullException.ThrowIfNull(csr);
        return new CertificateIssueRequest
        {
            Subject = csr.Subject,
            PublicKey = csr.PublicKey,
            Profile = profile,
        };
    }
}
