// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using Google.Protobuf;

namespace ExchangeBus.Registry.Storage;

/// <summary>An auditor certificate as issued, and the admin audit entry that recorded it.</summary>
public sealed record IssuedAuditorCertificate(byte[] Certificate, long AuditSequence);

public sealed partial class RegistryStore
{
    /// <summary>Ten years; an auditor's certificate is normally renewed long before (the profile's default is two).</summary>
    public const uint MaxAuditorValidityDays = 3650;

    /// <summary>
    /// Issues an auditor's certificate from a CSR: a member auditor when <paramref name="member"/>
    /// is set (the member must exist; a disabled one too, since its past exchanges stay
    /// auditable), a national auditor when it is empty. The registry sets the subject; the CSR
    /// contributes its P-256 key and proves possession of it. Recorded in the admin audit log and
    /// the certificate table, so OCSP answers for it and it can be revoked.
    /// </summary>
    public IssuedAuditorCertificate IssueAuditorCertificate(string actor, ByteString csr, string member, string name, uint validityDays)
    {
        ArgumentNullException.ThrowIfNull(csr);
        var national = member.Length == 0;
        const string action = "auditor.issue";
        byte[]? issued = null;
        var outcome = Change(actor, action, new { member, name, validityDays, csrBytes = csr.Length }, (c, t) =>
        {
            if (validityDays > MaxAuditorValidityDays)
            {
                throw RegistryException.Invalid(RegistryErrors.InvalidArgument, $"The validity is at most {MaxAuditorValidityDays} days.");
            }

            MemberId? id = null;
            if (!national)
            {
                id = ParseInstanceLocal(member, MemberId.Parse);
                RequireMember(c, t, id);
            }

            X500DistinguishedName subject;
            try
            {
                subject = id is null
                    ? CertificateNames.NationalAuditor(Instance, name)
                    : CertificateNames.MemberAuditor(Instance, id.MemberClass, id.MemberCode, name);
            }
            catch (PkiException ex)
            {
                throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "The auditor's name is refused: " + ex.Message);
            }

            var person = IssuePerson(c, t, csr, "auditor", national ? CertificateProfile.NationalAuditor : CertificateProfile.Auditor, subject, validityDays);
            issued = person.Der;
            return (null, new
            {
                serial = person.Serial,
                profile = person.Profile,
                subject = person.Subject,
                member = id?.ToString() ?? string.Empty,
                notAfter = person.NotAfter,
                keySha256 = person.KeySha256,
            });
        }, publish: false);
        return new IssuedAuditorCertificate(issued!, outcome.AuditSequence);
    }

    /// <summary>What a person's certificate was issued as, for the caller and its audit entry.</summary>
    private sealed record IssuedPerson(byte[] Der, string Serial, string Profile, string Subject, DateTime NotAfter, string KeySha256);

    /// <summary>
    /// Issues and records a person's certificate (an auditor's, an administrator's) from a CSR:
    /// the registry's <paramref name="subject"/>, the CSR's P-256 key, the profile's validity
    /// unless <paramref name="validityDays"/> says otherwise.
    /// </summary>
    private IssuedPerson IssuePerson(DbConnection c, DbTransaction t, ByteString csr, string which, CertificateProfile profile, X500DistinguishedName subject, uint validityDays)
    {
        var parsed = ParseCsr(csr, which);
        var request = CertificateIssueRequest.FromCsr(parsed, profile) with
        {
            Subject = subject,
            Validity = validityDays == 0 ? null : TimeSpan.FromDays(validityDays),
        };
        using var certificate = Issue(c, t, request);
        return new IssuedPerson(certificate.RawData, NormaliseSerial(certificate.SerialNumber), profile.ToString(), certificate.Subject,
            certificate.NotAfter.ToUniversalTime(), KeyHash(parsed.PublicKey));
    }
}
