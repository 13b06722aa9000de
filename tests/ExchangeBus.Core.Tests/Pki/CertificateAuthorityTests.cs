// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Core.Tests.Pki;

public sealed class CertificateAuthorityTests
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private const string TimeStamping = "1.3.6.1.5.5.7.3.8";
    private const string OcspSigning = "1.3.6.1.5.5.7.3.9";
    private const string ExtendedKeyUsageOid = "2.5.29.37";

    private FakeTimeProvider clock = null!;
    private CertificateAuthority ca = null!;

    [SetUp]
    public void SetUp()
    {
        clock = new FakeTimeProvider(TestClock.Start);
        ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
    }

    [TearDown]
    public void TearDown() => ca.Dispose();

    [Test]
    public void CreateRoot_IsSelfSignedCa()
    {
        var root = ca.Certificate;

        Assert.That(root.SubjectName.RawData, Is.EqualTo(root.IssuerName.RawData));
        Assert.That(Extension<X509BasicConstraintsExtension>(root) is { CertificateAuthority: true, Critical: true }, Is.True);
        Assert.That(
            Extension<X509KeyUsageExtension>(root)!.KeyUsages,
            Is.EqualTo(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign));
        Assert.That(root.NotBefore.ToUniversalTime(), Is.EqualTo((clock.GetUtcNow() - CertificateAuthority.Backdate).UtcDateTime));
        Assert.That(root.NotAfter.ToUniversalTime(), Is.EqualTo((clock.GetUtcNow() + CertificateAuthority.DefaultRootValidity).UtcDateTime));
        Assert.That(root.HasPrivateKey, Is.False);
    }

    [Test]
    public void Issue_MemberSigning_HasSigningKeyUsageAndNoExtendedUsage()
    {
        using var certificate = IssueFor(CertificateProfile.MemberSigning);

        var basic = Extension<X509BasicConstraintsExtension>(certificate)!;
        Assert.That(basic.CertificateAuthority, Is.False);
        Assert.That(basic.Critical, Is.True);
        var usage = Extension<X509KeyUsageExtension>(certificate)!;
        Assert.That(usage.KeyUsages, Is.EqualTo(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation));
        Assert.That(usage.Critical, Is.True);
        Assert.That(Extension<X509EnhancedKeyUsageExtension>(certificate), Is.Null);
        Assert.That(Extension<X509SubjectAlternativeNameExtension>(certificate), Is.Null);
    }

    [Test]
    public void Issue_HasKeyIdentifiersLinkingToIssuer()
    {
        using var key = EcKeys.GenerateP256();
        using var certificate = IssueFor(CertificateProfile.MemberSigning, key);

        var subjectKeyId = Extension<X509SubjectKeyIdentifierExtension>(certificate)!;
        var authorityKeyId = Extension<X509AuthorityKeyIdentifierExtension>(certificate)!;
        var issuerKeyId = Extension<X509SubjectKeyIdentifierExtension>(ca.Certificate)!;

        Assert.That(subjectKeyId.SubjectKeyIdentifier, Is.EqualTo(new X509SubjectKeyIdentifierExtension(new PublicKey(key), false).SubjectKeyIdentifier));
        Assert.That(authorityKeyId.KeyIdentifier!.Value.ToArray(), Is.EqualTo(Convert.FromHexString(issuerKeyId.SubjectKeyIdentifier!)));
        Assert.That(certificate.IssuerName.RawData, Is.EqualTo(ca.Certificate.SubjectName.RawData));
    }

    [Test]
    public void Issue_SerialNumbersArePositiveRandomAndAtLeast64Bits()
    {
        var serials = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            using var certificate = IssueFor(CertificateProfile.MemberSigning);
            var serial = new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true);

            Assert.That(serial.Sign, Is.EqualTo(1));
            Assert.That(serial.GetBitLength(), Is.GreaterThanOrEqualTo(64));
            serials.Add(certificate.SerialNumber);
        }

        Assert.That(serials, Has.Count.EqualTo(20));
    }

    [Test]
    public void Issue_ValidityComesFromTheClock_AndNeverOutlivesTheIssuer()
    {
        using var shortLived = IssueFor(CertificateProfile.MemberSigning, validity: TimeSpan.FromDays(30));
        using var tooLong = IssueFor(CertificateProfile.MemberSigning, validity: TimeSpan.MaxValue);

        Assert.That(shortLived.NotBefore.ToUniversalTime(), Is.EqualTo((clock.GetUtcNow() - CertificateAuthority.Backdate).UtcDateTime));
        Assert.That(shortLived.NotAfter.ToUniversalTime(), Is.EqualTo((clock.GetUtcNow() + TimeSpan.FromDays(30)).UtcDateTime));
        Assert.That(tooLong.NotAfter, Is.EqualTo(ca.Certificate.NotAfter));
    }

    [Test]
    public void Issue_AfterTheAuthorityExpired_Throws()
    {
        clock.Advance(CertificateAuthority.DefaultRootValidity + TimeSpan.FromDays(1));

        var ex = Assert.Throws<PkiException>(() => IssueFor(CertificateProfile.MemberSigning).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueAuthorityExpired));
    }

    [Test]
    public void Issue_NodeAuthentication_HasServerAndClientUsageAndNames()
    {
        using var certificate = IssueFor(
            CertificateProfile.NodeAuthentication,
            dnsNames: ["node1.example.org", "localhost"],
            addresses: [IPAddress.Loopback, IPAddress.Parse("10.1.2.3")]);

        Assert.That(ExtendedUsages(certificate), Is.EquivalentTo(new[] { ServerAuth, ClientAuth }));
        Assert.That(Extension<X509KeyUsageExtension>(certificate)!.KeyUsages, Is.EqualTo(X509KeyUsageFlags.DigitalSignature));
        var names = Extension<X509SubjectAlternativeNameExtension>(certificate)!;
        Assert.That(names.EnumerateDnsNames(), Is.EqualTo(new[] { "node1.example.org", "localhost" }));
        Assert.That(names.EnumerateIPAddresses(), Is.EqualTo(new[] { IPAddress.Loopback, IPAddress.Parse("10.1.2.3") }));
        Assert.That(certificate.MatchesHostname("node1.example.org"), Is.True);
    }

    [Test]
    public void Issue_NodeAuthenticationWithoutNames_Throws()
    {
        var ex = Assert.Throws<PkiException>(() => IssueFor(CertificateProfile.NodeAuthentication).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueMissingSubjectAlternativeName));
    }

    [TestCase("*.example.org")]
    [TestCase("https://node1.example.org")]
    [TestCase("node 1")]
    public void Issue_InvalidDnsName_Throws(string dnsName)
    {
        var ex = Assert.Throws<PkiException>(
            () => IssueFor(CertificateProfile.NodeAuthentication, dnsNames: [dnsName]).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueInvalidName));
    }

    [Test]
    public void Issue_NamesOnASigningProfile_Throws()
    {
        var ex = Assert.Throws<PkiException>(
            () => IssueFor(CertificateProfile.MemberSigning, dnsNames: ["x.example"]).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueUnexpectedSubjectAlternativeName));
    }

    [Test]
    public void Issue_TimeStamping_HasCriticalTimeStampingOnlyExtendedUsage()
    {
        using var certificate = IssueFor(CertificateProfile.TimeStamping);

        var extension = certificate.Extensions[ExtendedKeyUsageOid]!;
        Assert.That(extension.Critical, Is.True);

        // Read the raw extension, not just .NET's view of it: SEQUENCE OF OID with one element.
        var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
        Assert.That(reader.ReadObjectIdentifier(), Is.EqualTo(TimeStamping));
        Assert.That(reader.HasData, Is.False);
    }

    [Test]
    public async Task Issue_TimeStamping_OpenSslShowsCriticalTimeStampingExtendedUsage()
    {
        using var dir = new TempDirectory();
        using var certificate = IssueFor(CertificateProfile.TimeStamping);
        PemFiles.WriteCertificate(dir.File("tsa.pem"), certificate);

        var text = await OpenSsl.RunOkAsync(dir.Path, "x509", "-in", "tsa.pem", "-noout", "-ext", "extendedKeyUsage");

        var lines = text.Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.EqualTo(new[] { "X509v3 Extended Key Usage: critical", "Time Stamping" }));
    }

    [Test]
    public void Issue_OcspSigning_HasOcspUsageAndNoCheck()
    {
        using var certificate = IssueFor(CertificateProfile.OcspSigning);

        Assert.That(ExtendedUsages(certificate), Is.EqualTo(new[] { OcspSigning }));
        var noCheck = certificate.Extensions["1.3.6.1.5.5.7.48.1.5"];
        Assert.That(noCheck, Is.Not.Null);
        Assert.That(noCheck!.RawData, Is.EqualTo(new byte[] { 0x05, 0x00 }));
    }

    [TestCase(CertificateProfile.Auditor)]
    [TestCase(CertificateProfile.NationalAuditor)]
    [TestCase(CertificateProfile.Administrator)]
    public void Issue_PersonProfiles_HaveClientUsage(CertificateProfile profile)
    {
        using var certificate = IssueFor(profile);

        var role = profile switch
        {
            CertificateProfile.Administrator => ProfileDefinition.AdministratorRoleOid,
            CertificateProfile.NationalAuditor => ProfileDefinition.NationalAuditorRoleOid,
            _ => ProfileDefinition.AuditorRoleOid,
        };
        Assert.That(ExtendedUsages(certificate), Is.EqualTo(new[] { ClientAuth, role }));
        Assert.That(Extension<X509KeyUsageExtension>(certificate)!.KeyUsages, Is.EqualTo(X509KeyUsageFlags.DigitalSignature));
    }

    [Test]
    public void Issue_RsaPublicKey_Throws()
    {
        using var rsa = RSA.Create(2048);

        var ex = Assert.Throws<PkiException>(() => ca.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.MemberSigning("DEV", "GOV", "1"),
            PublicKey = new PublicKey(rsa),
            Profile = CertificateProfile.MemberSigning,
        }).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.KeyUnsupportedAlgorithm));
    }

    [Test]
    public async Task CreateIntermediate_IssuesChainsThatOpenSslVerifies()
    {
        using var dir = new TempDirectory();
        using var intermediate = ca.CreateIntermediate(CertificateNames.CentralService("DEV", "Test", "Issuing CA"));
        using var leaf = IssueFor(CertificateProfile.MemberSigning, issuer: intermediate);
        PemFiles.WriteCertificate(dir.File("root.pem"), ca.Certificate);
        PemFiles.WriteCertificate(dir.File("intermediate.pem"), intermediate.Certificate);
        PemFiles.WriteCertificate(dir.File("leaf.pem"), leaf);

        var basic = Extension<X509BasicConstraintsExtension>(intermediate.Certificate)!;
        Assert.That(basic is { CertificateAuthority: true, HasPathLengthConstraint: true, PathLengthConstraint: 0 }, Is.True);
        var verify = await OpenSsl.RunAsync(
            dir.Path,
            "verify",
            "-attime", clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-CAfile", "root.pem",
            "-untrusted", "intermediate.pem",
            "leaf.pem");
        Assert.That(verify.ExitCode, Is.Zero, verify.All);
        Assert.That(verify.Output, Does.Contain("leaf.pem: OK"));
    }

    [Test]
    public void SaveThenLoad_GivesAnAuthorityWithTheSameKey()
    {
        using var dir = new TempDirectory();
        ca.Save(dir.File("ca.pem"), dir.File("ca.key.pem"));

        using var loaded = CertificateAuthority.Load(dir.File("ca.pem"), dir.File("ca.key.pem"), clock);
        using var certificate = IssueFor(CertificateProfile.MemberSigning, issuer: loaded);

        using var issuerKey = ca.Certificate.GetECDsaPublicKey()!;
        Assert.That(certificate.IssuerName.RawData, Is.EqualTo(ca.Certificate.SubjectName.RawData));
        Assert.That(
            issuerKey.VerifyData(TbsCertificate(certificate, out var signature), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            Is.True);
    }

    [Test]
    public void FromCertificateAndKey_WrongKey_Throws()
    {
        using var other = EcKeys.GenerateP256();

        var ex = Assert.Throws<PkiException>(() => CertificateAuthority.FromCertificateAndKey(ca.Certificate, other, clock).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.KeyMismatch));
    }

    [Test]
    public void FromCertificateAndKey_LeafCertificate_Throws()
    {
        using var key = EcKeys.GenerateP256();
        using var leaf = IssueFor(CertificateProfile.MemberSigning, key);

        var ex = Assert.Throws<PkiException>(() => CertificateAuthority.FromCertificateAndKey(leaf, key, clock).Dispose());

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.IssueNotACertificateAuthority));
    }

    private X509Certificate2 IssueFor(
        CertificateProfile profile,
        ECDsa? key = null,
        TimeSpan? validity = null,
        string[]? dnsNames = null,
        IPAddress[]? addresses = null,
        CertificateAuthority? issuer = null)
    {
        using var generated = key is null ? EcKeys.GenerateP256() : null;
        return (issuer ?? ca).Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.MemberSigning("DEV", "GOV", "70000001"),
            PublicKey = new PublicKey(key ?? generated!),
            Profile = profile,
            Validity = validity,
            DnsNames = dnsNames ?? [],
            IpAddresses = addresses ?? [],
        });
    }

    private static T? Extension<T>(X509Certificate2 certificate)
        where T : X509Extension => certificate.Extensions.OfType<T>().SingleOrDefault();

    private static string[] ExtendedUsages(X509Certificate2 certificate) =>
        Extension<X509EnhancedKeyUsageExtension>(certificate)!.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value!).ToArray();

    /// <summary>Splits a certificate into its signed part and signature, to check the signature by hand.</summary>
    private static byte[] TbsCertificate(X509Certificate2 certificate, out byte[] signature)
    {
        var outer = new AsnReader(certificate.RawData, AsnEncodingRules.DER).ReadSequence();
        var tbs = outer.ReadEncodedValue().ToArray();
        outer.ReadSequence(); // signatureAlgorithm
        signature = outer.ReadBitString(out _);
        return tbs;
    }
}
