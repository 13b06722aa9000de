// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Core.Tests.Pki;

/// <summary>A certificate for one client role must not pass as another's.</summary>
public sealed class RoleCertificateTests
{
    [TestCase(CertificateProfile.NodeAuthentication, CertificateProfile.Administrator)]
    [TestCase(CertificateProfile.Auditor, CertificateProfile.Administrator)]
    [TestCase(CertificateProfile.Administrator, CertificateProfile.Auditor)]
    [TestCase(CertificateProfile.NodeAuthentication, CertificateProfile.Auditor)]
    [TestCase(CertificateProfile.Auditor, CertificateProfile.NationalAuditor)]
    [TestCase(CertificateProfile.NationalAuditor, CertificateProfile.Auditor)]
    [TestCase(CertificateProfile.NationalAuditor, CertificateProfile.Administrator)]
    [TestCase(CertificateProfile.NodeAuthentication, CertificateProfile.NationalAuditor)]
    public void Validate_CertificateOfAnotherRole_WrongUsage(CertificateProfile issued, CertificateProfile expected)
    {
        using var ca = CertificateAuthority.CreateRoot(new X500DistinguishedName("CN=Role Test Root"), TimeProvider.System);
        using var key = EcKeys.GenerateP256();
        using var certificate = ca.Issue(new CertificateIssueRequest
        {
            Subject = new X500DistinguishedName("CN=someone"),
            PublicKey = new PublicKey(key),
            Profile = issued,
            DnsNames = issued == CertificateProfile.NodeAuthentication ? ["localhost"] : [],
        });
        using var validator = new CertificateChainValidator([ca.Certificate], TimeProvider.System);

        Assert.That(validator.Validate(certificate, issued).IsValid, Is.True);
        var result = validator.Validate(certificate, expected);
        Assert.That(result.IsValid, Is.False);
        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }
}
