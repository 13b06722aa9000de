// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Core.Tests.Pki;

public sealed class CertificateNamesTests
{
    [Test]
    public void MemberSigning_ReadsBack()
    {
        var name = CertificateNames.MemberSigning("EE-TEST", "GOV", "70000001");

        Assert.That(CertificateNames.ReadMemberSigning(name), Is.EqualTo(new MemberSubject("EE-TEST", "GOV", "70000001", null)));
        Assert.That(CertificateNames.ReadNodeAuthentication(name), Is.Null);
    }

    [Test]
    public void NodeAuthentication_ReadsBack()
    {
        var name = CertificateNames.NodeAuthentication("EE-TEST", "GOV", "70000001", "node-1");

        Assert.That(CertificateNames.ReadNodeAuthentication(name), Is.EqualTo(new MemberSubject("EE-TEST", "GOV", "70000001", "node-1")));
        Assert.That(CertificateNames.ReadMemberSigning(name), Is.Null);
    }

    [Test]
    public async Task Names_AreEncodedMostSignificantFirst()
    {
        using var dir = new TempDirectory();
        using var ca = CertificateAuthority.CreateRoot(CertificateNames.NodeAuthentication("EE", "GOV", "70000001", "node-1"), TimeProvider.System);
        PemFiles.WriteCertificate(dir.File("c.pem"), ca.Certificate);

        // openssl's default output lists attributes in encoding order.
        var result = await OpenSsl.RunOkAsync(dir.Path, "x509", "-in", "c.pem", "-noout", "-subject");

        Assert.That(result.Output.Trim(), Is.EqualTo("subject=DC = EE, O = GOV, OU = 70000001, CN = node-1"));
    }

    [Test]
    public void SpecialCharacters_RoundTripWithoutBeingParsedAsSeparators()
    {
        var name = CertificateNames.MemberSigning("EE", "GOV, O=Evil", "a+b=c\"d");

        Assert.That(CertificateNames.ReadMemberSigning(name), Is.EqualTo(new MemberSubject("EE", "GOV, O=Evil", "a+b=c\"d", null)));
    }

    [Test]
    public void ExtraAttribute_IsNotAMemberName()
    {
        var builder = new System.Security.Cryptography.X509Certificates.X500DistinguishedNameBuilder();
        builder.AddCommonName("70000001");
        builder.AddOrganizationName("GOV");
        builder.AddDomainComponent("EE");
        builder.AddCountryOrRegion("EE");

        Assert.That(CertificateNames.ReadMemberSigning(builder.Build()), Is.Null);
    }

    [TestCase("", "GOV", "1")]
    [TestCase("EE", "", "1")]
    [TestCase("EE", "GOV", " 1")]
    [TestCase("EE", "GOV", "1\n")]
    [TestCase("ÉE", "GOV", "1")]
    public void InvalidParts_AreRefused(string instance, string memberClass, string memberCode)
    {
        var ex = Assert.Throws<PkiException>(() => CertificateNames.MemberSigning(instance, memberClass, memberCode));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueInvalidName));
    }

    [Test]
    public void OverlongPart_IsRefused()
    {
        var ex = Assert.Throws<PkiException>(() => CertificateNames.MemberSigning("EE", "GOV", new string('1', 65)));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueInvalidName));
    }
}
