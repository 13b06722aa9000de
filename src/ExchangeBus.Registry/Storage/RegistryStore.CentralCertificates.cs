// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.AdminAudit;
using Google.Protobuf;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

/// <summary>An administrator certificate as issued, and the admin audit entry that recorded it.</summary>
public sealed record IssuedAdministratorCertificate(byte[] Certificate, long AuditSequence);

/// <summary>
/// The central authority's own certificates whose status someone checks: administrators (the
/// management API refuses a revoked or unrecorded one), the OCSP responder and the TSA (the
/// configuration lists them only while they are good). Recorded in the certificate table like
/// every certificate the CA issues, so OCSP answers for them and `cert revoke` takes them.
/// </summary>
public sealed partial class RegistryStore
{
    /// <summary>Ten years, as for auditors; an administrator's certificate is normally renewed long before.</summary>
    public const uint MaxAdministratorValidityDays = 3650;

    private const string AdministratorsUnit = "Administrators";

    /// <summary>
    /// Records the key set's OCSP, TSA and administrator certificates that the table does not hold
    /// yet, each with a <c>certificate.record</c> audit entry. Runs when a registry is initialised
    /// and at every start: a registry.db made before these were recorded gets them then, and a
    /// certificate the operator put in <c>keys/</c> (a renewed responder, say) is recorded before
    /// it is published. A serial already recorded is left as it is, so a revoked one stays revoked.
    /// </summary>
    public int RecordKeySetCertificates()
    {
        lock (_writer)
        {
            using var connection = _database.OpenConnection();
            using var transaction = _database.BeginWrite(connection);
            var recorded = RecordKeySet(connection, transaction, _keys, _timeProvider);
            transaction.Commit();
            return recorded;
        }
    }

    /// <summary>
    /// Issues an administrator's certificate from a CSR. The registry sets the subject (the CA's
    /// organisation, OU=Administrators, CN=<paramref name="name"/>); the CSR contributes its P-256
    /// key and proves possession of it. Recorded and audited (<c>administrator.issue</c>), so
    /// OCSP answers for it and it can be revoked.
    /// </summary>
    public IssuedAdministratorCertificate IssueAdministratorCertificate(string actor, ByteString csr, string name, uint validityDays)
    {
        ArgumentNullException.ThrowIfNull(csr);
        byte[]? issued = null;
        var outcome = Change(actor, "administrator.issue", new { name, validityDays, csrBytes = csr.Length }, (c, t) =>
        {
            if (validityDays > MaxAdministratorValidityDays)
            {
                throw RegistryException.Invalid(RegistryErrors.InvalidArgument, $"The validity is at most {MaxAdministratorValidityDays} days.");
            }

            X500DistinguishedName subject;
            try
            {
                subject = CertificateNames.Person(Instance, Organisation(_keys.RootCertificate), AdministratorsUnit, name);
            }
            catch (PkiException ex)
            {
                throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "The administrator's name is refused: " + ex.Message);
            }

            var person = IssuePerson(c, t, csr, "administrator", CertificateProfile.Administrator, subject, validityDays);
            issued = person.Der;
            return (null, new { serial = person.Serial, profile = person.Profile, subject = person.Subject, notAfter = person.NotAfter, keySha256 = person.KeySha256 });
        }, publish: false);
        return new IssuedAdministratorCertificate(issued!, outcome.AuditSequence);
    }

    private static int RecordKeySet(DbConnection c, DbTransaction t, RegistryKeys keys, TimeProvider timeProvider)
    {
        var recorded = 0;
        foreach (var (certificate, profile) in KeySetCertificates(keys))
        {
            // Only what this CA issued: the table answers OCSP for this CA's serial numbers.
            var serial = NormaliseSerial(certificate.SerialNumber);
            if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(keys.RootCertificate.SubjectName.RawData)
                || Exists(c, t, "SELECT 1 FROM certificates WHERE serial = @a", serial))
            {
                continue;
            }

            var now = timeProvider.GetUtcNow();
            InsertCertificate(c, t, certificate, profile, now.ToUnixTimeMilliseconds());
            AdminAuditLog.Append(c, t, now, "registry", "certificate.record", true, string.Empty, string.Empty, AdminAuditLog.Describe(new
            {
                serial,
                profile = profile.ToString(),
                subject = certificate.Subject,
                notAfter = certificate.NotAfter.ToUniversalTime(),
            }));
            recorded++;
        }

        return recorded;
    }

    private static IEnumerable<(X509Certificate2 Certificate, CertificateProfile Profile)> KeySetCertificates(RegistryKeys keys)
    {
        yield return (keys.Ocsp, CertificateProfile.OcspSigning);
        yield return (keys.TimeStamping, CertificateProfile.TimeStamping);
        if (keys.Administrator is { } administrator)
        {
            yield return (administrator, CertificateProfile.Administrator);
        }
    }

    private static void InsertCertificate(DbConnection c, DbTransaction t, X509Certificate2 certificate, CertificateProfile profile, long issuedAt) =>
        Execute(c, t, """
            INSERT INTO certificates (serial, subject, profile, not_before, not_after, der, issued_at)
            VALUES (@a, @b, @c, @d, @e, @f, @g)
            """,
            NormaliseSerial(certificate.SerialNumber), certificate.Subject, profile.ToString(),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime()).ToUnixTimeMilliseconds(),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeMilliseconds(),
            certificate.RawData, issuedAt);

    /// <summary>True unless the table records <paramref name="certificate"/> as revoked (one it never recorded counts as good).</summary>
    private static bool NotRevoked(DbConnection c, DbTransaction t, X509Certificate2 certificate) =>
        !Exists(c, t, "SELECT 1 FROM certificates WHERE serial = @a AND revoked_at IS NOT NULL", NormaliseSerial(certificate.SerialNumber));

    /// <summary>The O of the CA's subject: administrators belong to the organisation that runs the CA.</summary>
    private static string Organisation(X509Certificate2 root)
    {
        foreach (var rdn in root.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && string.Equals(rdn.GetSingleElementType().Value, "2.5.4.10", StringComparison.Ordinal)
                && rdn.GetSingleElementValue() is { Length: > 0 } organisation)
            {
                return organisation;
            }
        }

        return "Central Authority";
    }
}
