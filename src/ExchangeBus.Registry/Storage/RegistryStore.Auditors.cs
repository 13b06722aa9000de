// SPDX-License-Identifier: Apache-2.0
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

            var parsed = ParseCsr(csr, "auditor");
            var request = CertificateIssueRequest.FromCsr(parsed, national ? CertificateProfile.NationalAuditor : CertificateProfile.Auditor) with
            {
                Subject = subject,
                Validity = validityDays == 0 ? null : TimeSpan.FromDays(validityDays),
            };
            using var certificate = Issue(c, t, request);
            issued = certificate.RawData;
            return (null, new
            {
                serial = NormaliseSerial(certificate.SerialNumber),
                profile = request.Profile.ToString(),
                subject = certificate.Subject,
                member = id?.ToString() ?? string.Empty,
                notAfter = certificate.NotAfter.ToUniversalTime(),
                keySha256 = KeyHash(parsed.PublicKey),
            });
        }, publish: false);
        return new IssuedAuditorCertificate(issued!, outcome.AuditSequence);
    }
}
