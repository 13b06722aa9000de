// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Core.Tests.Pki;

public sealed class CertificateChainValidatorTests
{
    private FakeTimeProvider clock = null!;
    private CertificateAuthority ca = null!;
    private CertificateChainValidator validator = null!;

    [SetUp]
    public void SetUp()
    {
        clock = new FakeTimeProvider(TestClock.Start);
        ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        validator = new CertificateChainValidator([ca.Certificate], clock);
    }

    [TearDown]
    public void TearDown()
    {
        validator.Dispose();
        ca.Dispose();
    }

    [TestCase(CertificateProfile.MemberSigning)]
    [TestCase(CertificateProfile.NodeAuthentication)]
    [TestCase(CertificateProfile.TlsServer)]
    [TestCase(CertificateProfile.TimeStamping)]
    [TestCase(CertificateProfile.OcspSigning)]
    [TestCase(CertificateProfile.ConfigurationSigning)]
    [TestCase(CertificateProfile.Auditor)]
    [TestCase(CertificateProfile.NationalAuditor)]
    [TestCase(CertificateProfile.Administrator)]
    public void GoodChain_IsValidForItsProfile(CertificateProfile profile)
    {
        using var certificate = Issue(ca, profile);

        var result = validator.Validate(certificate, profile);

        Assert.That(result.IsValid, Is.True, string.Join("; ", result.Errors));
        Assert.That(result.Code, Is.Null);
    }

    [Test]
    public void ExtensionValueThatIsNotDer_IsAnInvalidExtension_NotAnException()
    {
        // Found by EnvelopeFsCheckProperties: one flipped bit in a peer's signer certificate made
        // the basic-constraints value undecodable, and reading it threw CryptographicException.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=broken extension", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("2.5.29.19", [0x76, 0x00], critical: true));
        using var certificate = request.CreateSelfSigned(clock.GetUtcNow().AddDays(-1), clock.GetUtcNow().AddDays(1));

        var result = validator.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(result.Errors.Select(e => e.Code), Does.Contain(PkiErrors.CertificateInvalidExtension));
    }

    [Test]
    public void NodeAuthentication_IsAlsoValidAsTlsServer()
    {
        using var certificate = Issue(ca, CertificateProfile.NodeAuthentication);

        Assert.That(validator.Validate(certificate, CertificateProfile.TlsServer).IsValid, Is.True);
    }

    [Test]
    public void CertificateFromForeignCa_IsUntrusted()
    {
        using var foreign = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        using var certificate = Issue(foreign, CertificateProfile.MemberSigning);

        var result = validator.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(result.IsValid, Is.False);
        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateUntrustedRoot));
    }

    [Test]
    public void ForeignRootItself_IsUntrusted()
    {
        using var foreign = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Other", "Root CA"), clock);
        using var certificate = Issue(foreign, CertificateProfile.MemberSigning);

        // Even when the peer sends its own root along, it is not one of ours.
        var result = validator.Validate(certificate, CertificateProfile.MemberSigning, [foreign.Certificate]);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateUntrustedRoot));
    }

    [Test]
    public void ExpiredCertificate_IsExpired()
    {
        using var certificate = Issue(ca, CertificateProfile.MemberSigning, TimeSpan.FromDays(1));
        clock.Advance(TimeSpan.FromDays(2));

        var result = validator.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateExpired));
    }

    [Test]
    public void CertificateIssuedInThePast_IsExpiredNow()
    {
        // The authority's clock said 2020; the relying party validates with today's.
        var past = new FakeTimeProvider(new DateTimeOffset(2020, 3, 1, 0, 0, 0, TimeSpan.Zero));
        using var oldCa = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Old", "Root CA"), past);
        using var certificate = Issue(oldCa, CertificateProfile.MemberSigning, TimeSpan.FromDays(365));
        using var now = new CertificateChainValidator([oldCa.Certificate], TimeProvider.System);

        var result = now.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateExpired));
    }

    [Test]
    public void CertificateBeforeItsValidity_IsNotYetValid()
    {
        using var certificate = Issue(ca, CertificateProfile.MemberSigning);
        clock.AdjustTime(clock.GetUtcNow() - TimeSpan.FromHours(1)); // Advance only goes forward; AdjustTime sets the clock back

        var result = validator.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateNotYetValid));
    }

    [Test]
    public void ClientCertificate_UsedForTimeStamping_IsWrongUsage()
    {
        using var certificate = Issue(ca, CertificateProfile.Auditor);

        var result = validator.Validate(certificate, CertificateProfile.TimeStamping);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void ServerOnlyCertificate_UsedAsNodeAuthentication_IsWrongUsage()
    {
        using var certificate = Issue(ca, CertificateProfile.TlsServer);

        var result = validator.Validate(certificate, CertificateProfile.NodeAuthentication);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void SigningCertificateWithoutExtendedUsage_UsedForTls_IsWrongUsage()
    {
        // X509Chain alone would accept this: a certificate without EKU passes any application policy.
        using var certificate = Issue(ca, CertificateProfile.MemberSigning);

        var result = validator.Validate(certificate, CertificateProfile.TlsServer);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [TestCase(CertificateProfile.NodeAuthentication)]
    [TestCase(CertificateProfile.TimeStamping)]
    [TestCase(CertificateProfile.ConfigurationSigning)]
    public void OtherCertificates_UsedForMemberSigning_AreWrongUsage(CertificateProfile issued)
    {
        using var certificate = Issue(ca, issued);

        var result = validator.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void CaCertificate_UsedAsEndEntity_IsWrongUsage()
    {
        using var intermediate = ca.CreateIntermediate(CertificateNames.CentralService("DEV", "Test", "Issuing CA"));

        var result = validator.Validate(intermediate.Certificate, CertificateProfile.MemberSigning);

        Assert.That(result.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void ExpiredAndWrongUsage_ReportsBoth()
    {
        using var certificate = Issue(ca, CertificateProfile.Auditor, TimeSpan.FromDays(1));
        clock.Advance(TimeSpan.FromDays(2));

        var result = validator.Validate(certificate, CertificateProfile.TimeStamping);

        Assert.That(
            result.Errors.Select(e => e.Code),
            Is.SupersetOf(new[] { PkiErrors.CertificateExpired, PkiErrors.CertificateWrongUsage }));
    }

    [Test]
    public void TamperedCertificate_HasInvalidSignature()
    {
        using var certificate = Issue(ca, CertificateProfile.MemberSigning);
        var der = certificate.RawData;

        // Change one character of the subject, inside the signed part.
        var at = der.AsSpan().IndexOf("70000001"u8);
        der[at] = (byte)'9';
        using var tampered = X509CertificateLoader.LoadCertificate(der);

        var result = validator.Validate(tampered, CertificateProfile.MemberSigning);

        Assert.That(result.IsValid, Is.False);
        Assert.That(result.Errors.Select(e => e.Code), Does.Contain(PkiErrors.CertificateInvalidSignature));
    }

    [Test]
    public void ChainThroughSuppliedIntermediate_IsValid_AndWithoutIt_IsUntrusted()
    {
        using var intermediate = ca.CreateIntermediate(CertificateNames.CentralService("DEV", "Test", "Issuing CA"));
        using var certificate = Issue(intermediate, CertificateProfile.MemberSigning);

        var withIntermediate = validator.Validate(certificate, CertificateProfile.MemberSigning, [intermediate.Certificate]);
        var without = validator.Validate(certificate, CertificateProfile.MemberSigning);

        Assert.That(withIntermediate.IsValid, Is.True, string.Join("; ", withIntermediate.Errors));
        Assert.That(without.Code, Is.EqualTo(PkiErrors.CertificateUntrustedRoot));
    }

    [Test]
    public void IntermediateRestrictedToClientUsage_CannotVouchForServer_IsWrongUsage()
    {
        // Our authority never makes such an intermediate, but a peer's chain may hold one: the
        // usage an intermediate allows limits its leaves (the chain's application policy).
        var rootName = CertificateNames.CentralService("DEV", "Other", "Root CA");
        using var rootKey = EcKeys.GenerateP256();
        var rootRequest = new CertificateRequest(rootName, rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var root = rootRequest.CreateSelfSigned(clock.GetUtcNow().AddDays(-1), clock.GetUtcNow().AddDays(30));

        var intermediateKey = EcKeys.GenerateP256(); // owned by the authority below
        var intermediateRequest = new CertificateRequest(
            CertificateNames.CentralService("DEV", "Other", "Client CA"), intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        intermediateRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(intermediateRequest.PublicKey, false));
        intermediateRequest.CertificateExtensions.Add(
            new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2"), new Oid(ProfileDefinition.AuditorRoleOid)], false));
        using var intermediateCertificate = intermediateRequest.Create(
            root, clock.GetUtcNow().AddDays(-1), clock.GetUtcNow().AddDays(20), [1, 2, 3, 4, 5, 6, 7, 8]);
        using var intermediate = CertificateAuthority.FromCertificateAndKey(intermediateCertificate, intermediateKey, clock);
        using var certificate = Issue(intermediate, CertificateProfile.NodeAuthentication);
        using var client = Issue(intermediate, CertificateProfile.Auditor);
        using var publicRoot = X509CertificateLoader.LoadCertificate(root.RawData);
        using var otherValidator = new CertificateChainValidator([publicRoot], clock);

        var asClient = otherValidator.Validate(client, CertificateProfile.Auditor, [intermediate.Certificate]);
        var asServer = otherValidator.Validate(certificate, CertificateProfile.TlsServer, [intermediate.Certificate]);

        Assert.That(asClient.IsValid, Is.True, string.Join("; ", asClient.Errors));
        Assert.That(asServer.Code, Is.EqualTo(PkiErrors.CertificateWrongUsage));
    }

    [Test]
    public void Constructor_LeafAsRoot_Throws()
    {
        using var certificate = Issue(ca, CertificateProfile.MemberSigning);

        Assert.Throws<ArgumentException>(() => new CertificateChainValidator([certificate], clock).Dispose());
    }

    private static X509Certificate2 Issue(CertificateAuthority issuer, CertificateProfile profile, TimeSpan? validity = null)
    {
        using var key = EcKeys.GenerateP256();
        var tls = profile is CertificateProfile.NodeAuthentication or CertificateProfile.TlsServer;
        return issuer.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.MemberSigning("DEV", "GOV", "70000001"),
            PublicKey = new PublicKey(key),
            Profile = profile,
            Validity = validity,
            DnsNames = tls ? ["localhost"] : [],
            IpAddresses = tls ? [IPAddress.Loopback] : [],
        });
    }
}
