// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Pki;

/// <summary>What an auditor may see.</summary>
public enum AuditorScope
{
    /// <summary>The records of exchanges one member took part in.</summary>
    Member,

    /// <summary>Every member's records.</summary>
    National,
}

/// <summary>
/// Who an auditor certificate says its holder is: a member auditor (with the member) or a
/// national auditor, and the person's name.
/// </summary>
/// <remarks>
/// <see cref="TryRead"/> reads the certificate only; it does not say the certificate is
/// trusted. A relying party first validates it with <see cref="CertificateChainValidator"/> for
/// <see cref="Profile"/> (chain to the bus's roots, validity, key usage), then checks revocation.
/// </remarks>
public sealed record AuditorIdentity
{
    private AuditorIdentity(AuditorScope scope, string instance, MemberId? member, string name)
    {
        Scope = scope;
        Instance = instance;
        Member = member;
        Name = name;
    }

    public AuditorScope Scope { get; }

    public string Instance { get; }

    /// <summary>The member audited; null for a national auditor.</summary>
    public MemberId? Member { get; }

    /// <summary>The person's name (CN). Personal data: not for logs.</summary>
    public string Name { get; }

    /// <summary>The profile to validate the certificate for.</summary>
    public CertificateProfile Profile => Scope == AuditorScope.National ? CertificateProfile.NationalAuditor : CertificateProfile.Auditor;

    /// <summary>True when this auditor may see the records of an exchange <paramref name="member"/> took part in.</summary>
    public bool MaySee(MemberId member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return Scope == AuditorScope.National
            ? string.Equals(member.Instance, Instance, StringComparison.Ordinal)
            : member == Member;
    }

    /// <summary>
    /// Reads an auditor certificate. Null unless it is an end-entity certificate whose extended
    /// key usages hold clientAuth and exactly one auditor role (member or national, never both
    /// and never the administrator role), and whose subject has exactly the shape of that role:
    /// the role EKU decides, the subject must agree. A node's authentication certificate (no
    /// role EKU) is never read as an auditor's, whatever its subject says.
    /// </summary>
    public static AuditorIdentity? TryRead(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true })
        {
            return null;
        }

        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToArray();
        if (usages.Length != 1)
        {
            return null;
        }

        var oids = usages[0].EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
        var member = oids.Contains(ProfileDefinition.AuditorRoleOid);
        var national = oids.Contains(ProfileDefinition.NationalAuditorRoleOid);
        if (!oids.Contains(ProfileDefinition.ClientAuthOid) || member == national || oids.Contains(ProfileDefinition.AdministratorRoleOid))
        {
            return null;
        }

        if (national)
        {
            return CertificateNames.ReadNationalAuditor(certificate.SubjectName) is { } n
                && IsInstance(n.Instance)
                ? new AuditorIdentity(AuditorScope.National, n.Instance, null, n.Name)
                : null;
        }

        // A part with a slash or an illegal character makes the identifier fail to parse.
        if (CertificateNames.ReadMemberAuditor(certificate.SubjectName) is not { } m
            || !MemberId.TryParse($"{m.Member.Instance}/{m.Member.MemberClass}/{m.Member.MemberCode}", out var id))
        {
            return null;
        }

        return new AuditorIdentity(AuditorScope.Member, id.Instance, id, m.Name);
    }

    private static bool IsInstance(string instance) => MemberId.TryParse($"{instance}/X/X", out _);

    public override string ToString() => Scope == AuditorScope.National ? $"national auditor ({Instance})" : $"auditor of {Member}";
}
