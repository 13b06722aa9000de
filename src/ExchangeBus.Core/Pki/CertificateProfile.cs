// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>What a certificate is for; decides its key usage, extended key usage and names.</summary>
public enum CertificateProfile
{
    /// <summary>A member's message-signing key: digitalSignature + nonRepudiation, no EKU.</summary>
    MemberSigning,

    /// <summary>A node's TLS key, used as both server and client: serverAuth + clientAuth, SANs required.</summary>
    NodeAuthentication,

    /// <summary>A TLS server only (the registry): serverAuth, SANs required.</summary>
    TlsServer,

    /// <summary>A time-stamping authority: the only EKU is timeStamping, marked critical (RFC 3161 §2.3).</summary>
    TimeStamping,

    /// <summary>An OCSP responder delegated by the CA: OCSPSigning, plus id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).</summary>
    OcspSigning,

    /// <summary>The central authority's global-configuration signing key: digitalSignature, no EKU.</summary>
    ConfigurationSigning,

    /// <summary>
    /// A member auditor: a person who reads the audit records of exchanges one member took part
    /// in (the member is in the subject, <see cref="CertificateNames.MemberAuditor"/>). clientAuth + auditor role.
    /// </summary>
    Auditor,

    /// <summary>A person who operates the central authority: clientAuth.</summary>
    Administrator,

    /// <summary>A subordinate CA that issues end-entity certificates only (path length 0).</summary>
    IntermediateCa,

    /// <summary>
    /// A national auditor: a person who reads every member's audit records
    /// (<see cref="CertificateNames.NationalAuditor"/>). clientAuth + national auditor role.
    /// </summary>
    NationalAuditor,
}

/// <summary>The extension values behind each <see cref="CertificateProfile"/>, shared by issuing and validating.</summary>
internal sealed record ProfileDefinition(
    X509KeyUsageFlags KeyUsage,
    IReadOnlyList<string> ExtendedKeyUsages,
    bool ExtendedKeyUsageCritical,
    bool IsCertificateAuthority,
    bool RequiresSubjectAlternativeNames,
    bool AllowsSubjectAlternativeNames,
    TimeSpan DefaultValidity)
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    public const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";
    public const string OcspSigningOid = "1.3.6.1.5.5.7.3.9";
    public const string OcspNoCheckOid = "1.3.6.1.5.5.7.48.1.5";

    // Roles that authenticate with TLS client certificates. clientAuth alone cannot tell an
    // administrator from an auditor or a node, so each role has its own EKU beside clientAuth,
    // and the chain policy requires it. The arc 1.3.6.1.4.1.99999 is a placeholder until the
    // central authority has a registered enterprise number (docs/design/certificates.md).
    public const string AdministratorRoleOid = "1.3.6.1.4.1.99999.3.1";
    public const string AuditorRoleOid = "1.3.6.1.4.1.99999.3.2";

    // Its own role rather than the auditor role plus a flag in the name: a relying party that
    // checks only the EKU must never take a member auditor for one who may see everything.
    public const string NationalAuditorRoleOid = "1.3.6.1.4.1.99999.3.3";

    private static readonly TimeSpan TwoYears = TimeSpan.FromDays(730);

    public static ProfileDefinition For(CertificateProfile profile) => profile switch
    {
        CertificateProfile.MemberSigning => Leaf(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, []),
        CertificateProfile.NodeAuthentication => Leaf(
            X509KeyUsageFlags.DigitalSignature, [ServerAuthOid, ClientAuthOid]) with
        {
            RequiresSubjectAlternativeNames = true,
            AllowsSubjectAlternativeNames = true,
        },
        CertificateProfile.TlsServer => Leaf(X509KeyUsageFlags.DigitalSignature, [ServerAuthOid]) with
        {
            RequiresSubjectAlternativeNames = true,
            AllowsSubjectAlternativeNames = true,
        },
        CertificateProfile.TimeStamping => Leaf(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, [TimeStampingOid]) with
        {
            ExtendedKeyUsageCritical = true,
        },
        CertificateProfile.OcspSigning => Leaf(X509KeyUsageFlags.DigitalSignature, [OcspSigningOid]),
        CertificateProfile.ConfigurationSigning => Leaf(X509KeyUsageFlags.DigitalSignature, []),
        CertificateProfile.Administrator => Leaf(X509KeyUsageFlags.DigitalSignature, [ClientAuthOid, AdministratorRoleOid]),
        CertificateProfile.Auditor => Leaf(X509KeyUsageFlags.DigitalSignature, [ClientAuthOid, AuditorRoleOid]),
        CertificateProfile.NationalAuditor => Leaf(X509KeyUsageFlags.DigitalSignature, [ClientAuthOid, NationalAuditorRoleOid]),
        CertificateProfile.IntermediateCa => new ProfileDefinition(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign,
            [],
            ExtendedKeyUsageCritical: false,
            IsCertificateAuthority: true,
            RequiresSubjectAlternativeNames: false,
            AllowsSubjectAlternativeNames: false,
            TimeSpan.FromDays(5 * 365)),
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "Unknown certificate profile."),
    };

    public IEnumerable<X509Extension> CreateExtensions()
    {
        yield return new X509BasicConstraintsExtension(
            IsCertificateAuthority,
            hasPathLengthConstraint: IsCertificateAuthority,
            pathLengthConstraint: 0,
            critical: true);
        yield return new X509KeyUsageExtension(KeyUsage, critical: true);
        if (ExtendedKeyUsages.Count > 0)
        {
            var oids = new OidCollection();
            foreach (var oid in ExtendedKeyUsages)
            {
                oids.Add(new Oid(oid));
            }

            yield return new X509EnhancedKeyUsageExtension(oids, ExtendedKeyUsageCritical);
        }

        if (ExtendedKeyUsages.Contains(OcspSigningOid))
        {
            // id-pkix-ocsp-nocheck with a NULL value: the responder's own certificate is not
            // checked for revocation, which would otherwise be circular.
            yield return new X509Extension(OcspNoCheckOid, [0x05, 0x00], critical: false);
        }
    }

    private static ProfileDefinition Leaf(X509KeyUsageFlags keyUsage, string[] extendedKeyUsages) => new(
        keyUsage,
        extendedKeyUsages,
        ExtendedKeyUsageCritical: false,
        IsCertificateAuthority: false,
        RequiresSubjectAlternativeNames: false,
        AllowsSubjectAlternativeNames: false,
        TwoYears);
}
