// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Core.Tests.Pki;

/// <summary>Member and national auditor certificates: read by their role EKU, never by their subject alone.</summary>
public sealed class AuditorIdentityTests
{
    private static readonly MemberId Member = MemberId.Parse("VN/GOV/000.00.00.H01");

    private CertificateAuthority _ca = null!;

    [SetUp]
    public void SetUp() => _ca = CertificateAuthority.CreateRoot(new X500DistinguishedName("CN=Auditor Test Root"), TimeProvider.System);

    [TearDown]
    public void TearDown() => _ca.Dispose();

    [Test]
    public void MemberAuditor_ReadsMemberAndName()
    {
        using var certificate = Issue(CertificateNames.MemberAuditor("VN", "GOV", "000.00.00.H01", "Nguyễn Văn An"), CertificateProfile.Auditor);

        var identity = AuditorIdentity.TryRead(certificate);

        Assert.That(identity, Is.Not.Null);
        Assert.That(identity!.Scope, Is.EqualTo(AuditorScope.Member));
        Assert.That(identity.Member, Is.EqualTo(Member));
        Assert.That(identity.Name, Is.EqualTo("Nguyễn Văn An"));
        Assert.That(identity.Profile, Is.EqualTo(CertificateProfile.Auditor));
        Assert.That(identity.MaySee(Member), Is.True);
        Assert.That(identity.MaySee(MemberId.Parse("VN/GOV/000.00.00.G01")), Is.False);
    }

    [Test]
    public void NationalAuditor_SeesEveryMemberOfItsInstance()
    {
        using var certificate = Issue(CertificateNames.NationalAuditor("VN", "Trần Thị Bình"), CertificateProfile.NationalAuditor);

        var identity = AuditorIdentity.TryRead(certificate);

        Assert.That(identity, Is.Not.Null);
        Assert.That((identity!.Scope, identity.Instance, identity.Member, identity.Name), Is.EqualTo((AuditorScope.National, "VN", (MemberId?)null, "Trần Thị Bình")));
        Assert.That(identity.Profile, Is.EqualTo(CertificateProfile.NationalAuditor));
        Assert.That(identity.MaySee(Member), Is.True);
        Assert.That(identity.MaySee(MemberId.Parse("EE/GOV/1")), Is.False);
    }

    [Test]
    public void NodeAuthenticationCertificate_IsNoAuditorWhateverItsSubject()
    {
        // The four-attribute node subject with a CN that looks like a person's name.
        using var node = Issue(CertificateNames.NodeAuthentication("VN", "GOV", "000.00.00.H01", "An"), CertificateProfile.NodeAuthentication, ["localhost"]);
        using var nodeWithAuditorSubject = Issue(CertificateNames.MemberAuditor("VN", "GOV", "000.00.00.H01", "An"), CertificateProfile.NodeAuthentication, ["localhost"]);

        Assert.That(AuditorIdentity.TryRead(node), Is.Null);
        Assert.That(AuditorIdentity.TryRead(nodeWithAuditorSubject), Is.Null);
    }

    [Test]
    public void MemberAuditorSubject_IsNotANodeAuthenticationSubject()
    {
        var subject = CertificateNames.MemberAuditor("VN", "GOV", "000.00.00.H01", "ss1");

        Assert.That(CertificateNames.ReadNodeAuthentication(subject), Is.Null);
        Assert.That(CertificateNames.ReadMemberSigning(subject), Is.Null);
        Assert.That(CertificateNames.ReadNationalAuditor(subject), Is.Null);
    }

    [Test]
    public void RoleAndSubjectDisagree_NotAnAuditor()
    {
        using var nationalRoleMemberSubject = Issue(CertificateNames.MemberAuditor("VN", "GOV", "H01", "An"), CertificateProfile.NationalAuditor);
        using var memberRoleNationalSubject = Issue(CertificateNames.NationalAuditor("VN", "An"), CertificateProfile.Auditor);
        using var administrator = Issue(CertificateNames.NationalAuditor("VN", "An"), CertificateProfile.Administrator);

        Assert.That(AuditorIdentity.TryRead(nationalRoleMemberSubject), Is.Null);
        Assert.That(AuditorIdentity.TryRead(memberRoleNationalSubject), Is.Null);
        Assert.That(AuditorIdentity.TryRead(administrator), Is.Null);
    }

    [Test]
    public void BothAuditorRoles_NotAnAuditor()
    {
        using var key = EcKeys.GenerateP256();
        var request = new CertificateRequest(CertificateNames.NationalAuditor("VN", "An"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(ProfileDefinition.ClientAuthOid), new Oid(ProfileDefinition.AuditorRoleOid), new Oid(ProfileDefinition.NationalAuditorRoleOid)], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));

        Assert.That(AuditorIdentity.TryRead(certificate), Is.Null);
    }

    [Test]
    public void MemberCodeWithSlash_NotAnAuditor()
    {
        using var certificate = Issue(CertificateNames.MemberAuditor("VN", "GOV", "H01/ss1", "An"), CertificateProfile.Auditor);

        Assert.That(AuditorIdentity.TryRead(certificate), Is.Null);
    }

    [Test]
    public async Task Subjects_AreEncodedMostSignificantFirst()
    {
        using var dir = new TempDirectory();
        using var member = Issue(CertificateNames.MemberAuditor("VN", "GOV", "H01", "An"), CertificateProfile.Auditor);
        using var national = Issue(CertificateNames.NationalAuditor("VN", "Binh"), CertificateProfile.NationalAuditor);
        PemFiles.WriteCertificate(dir.File("m.pem"), member);
        PemFiles.WriteCertificate(dir.File("n.pem"), national);

        var m = await OpenSsl.RunOkAsync(dir.Path, "x509", "-in", "m.pem", "-noout", "-subject");
        var n = await OpenSsl.RunOkAsync(dir.Path, "x509", "-in", "n.pem", "-noout", "-subject");

        Assert.That(m.Output.Trim(), Is.EqualTo("subject=DC = VN, O = GOV, OU = H01, OU = Auditors, CN = An"));
        Assert.That(n.Output.Trim(), Is.EqualTo("subject=DC = VN, OU = National Auditors, CN = Binh"));
    }

    private X509Certificate2 Issue(X500DistinguishedName subject, CertificateProfile profile, string[]? dnsNames = null)
    {
        using var key = EcKeys.GenerateP256();
        return _ca.Issue(new CertificateIssueRequest
        {
            Subject = subject,
            PublicKey = new PublicKey(key),
            Profile = profile,
            DnsNames = dnsNames ?? [],
        });
    }
}
