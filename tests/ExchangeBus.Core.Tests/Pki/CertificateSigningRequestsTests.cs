// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExchangeBus.Core.Pki;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Core.Tests.Pki;

public sealed class CertificateSigningRequestsTests
{
    private static readonly X500DistinguishedName Subject = CertificateNames.MemberSigning("EE-TEST", "GOV", "member-70000001");

    [Test]
    public void Create_ThenParseDer_GivesSubjectAndKey()
    {
        using var key = EcKeys.GenerateP256();

        var result = CertificateSigningRequests.Parse(CertificateSigningRequests.Create(Subject, key));

        Assert.That(result.IsSuccess, Is.True, result.Error?.ToString());
        Assert.That(result.Csr!.Subject.RawData, Is.EqualTo(Subject.RawData));
        Assert.That(result.Csr.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(key.ExportSubjectPublicKeyInfo()));
    }

    [Test]
    public void CreatePem_ThenParse_GivesSubjectAndKey()
    {
        using var key = EcKeys.GenerateP256();
        var pem = CertificateSigningRequests.CreatePem(Subject, key);

        var result = CertificateSigningRequests.Parse(Encoding.ASCII.GetBytes(pem));

        Assert.That(pem, Does.StartWith("-----BEGIN CERTIFICATE REQUEST-----"));
        Assert.That(result.IsSuccess, Is.True, result.Error?.ToString());
        Assert.That(CertificateNames.ReadMemberSigning(result.Csr!.Subject), Is.EqualTo(new MemberSubject("EE-TEST", "GOV", "member-70000001", null)));
        Assert.That(result.Csr.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(key.ExportSubjectPublicKeyInfo()));
    }

    [Test]
    public async Task CreatePem_IsAcceptedByOpenSsl()
    {
        using var dir = new TempDirectory();
        using var key = EcKeys.GenerateP256();
        await File.WriteAllTextAsync(dir.File("r.csr"), CertificateSigningRequests.CreatePem(Subject, key));

        var result = await OpenSsl.RunOkAsync(dir.Path, "req", "-in", "r.csr", "-verify", "-noout", "-subject", "-nameopt", "RFC2253");

        Assert.That(result.All, Does.Contain("verify OK"));
        Assert.That(result.All, Does.Contain("subject=CN=member-70000001,O=GOV,DC=EE-TEST"));
    }

    [Test]
    public async Task OpenSslCsr_IsIssued_AndOpenSslVerifiesTheCertificate()
    {
        using var dir = new TempDirectory();
        var csrPath = await OpenSsl.MakeCsrAsync(
            dir, "member", "/DC=EE-TEST/O=GOV/CN=70000001", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        using var ca = CertificateAuthority.CreateRoot(
            CertificateNames.CentralService("EE-TEST", "Test CA", "Root"), TimeProvider.System);
        PemFiles.WriteCertificate(dir.File("root.pem"), ca.Certificate);

        var parsed = CertificateSigningRequests.ReadFile(csrPath);
        Assert.That(parsed.IsSuccess, Is.True, parsed.Error?.ToString());
        using var certificate = ca.Issue(parsed.Csr!, CertificateProfile.MemberSigning);
        PemFiles.WriteCertificate(dir.File("cert.pem"), certificate);

        var verify = await OpenSsl.RunAsync(dir.Path, "verify", "-CAfile", "root.pem", "cert.pem");
        Assert.That(verify.ExitCode, Is.Zero, verify.All);
        Assert.That(verify.Output, Does.Contain("cert.pem: OK"));
        Assert.That(
            CertificateNames.ReadMemberSigning(certificate.SubjectName),
            Is.EqualTo(new MemberSubject("EE-TEST", "GOV", "70000001", null)));

        // The issued certificate is for the key openssl made, not some other one.
        var keyCheck = await OpenSsl.RunOkAsync(dir.Path, "x509", "-in", "cert.pem", "-noout", "-pubkey");
        var keyFile = await OpenSsl.RunOkAsync(dir.Path, "pkey", "-in", "member.key", "-pubout");
        Assert.That(keyCheck.Output, Is.EqualTo(keyFile.Output));
    }

    [Test]
    public async Task OpenSslRsaCsr_IsRefused()
    {
        using var dir = new TempDirectory();
        var csrPath = await OpenSsl.MakeCsrAsync(dir, "rsa", "/CN=rsa", "-newkey", "rsa:2048");

        var result = CertificateSigningRequests.ReadFile(csrPath);

        Assert.That(result.IsSuccess, Is.False);
        Assert.That(result.Error!.Code, Is.EqualTo(PkiErrors.KeyUnsupportedAlgorithm));
        Assert.That(result.Error.Message, Does.Contain("RSA"));
    }

    [Test]
    public async Task OpenSslP384Csr_IsRefused()
    {
        using var dir = new TempDirectory();
        var csrPath = await OpenSsl.MakeCsrAsync(
            dir, "p384", "/CN=p384", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384");

        var result = CertificateSigningRequests.ReadFile(csrPath);

        Assert.That(result.IsSuccess, Is.False);
        Assert.That(result.Error!.Code, Is.EqualTo(PkiErrors.KeyUnsupportedCurve));
        Assert.That(result.Error.Message, Does.Contain("P-384"));
    }

    [Test]
    public async Task OpenSslCsrWithExplicitCurveParameters_IsRefused()
    {
        using var dir = new TempDirectory();
        var csrPath = await OpenSsl.MakeCsrAsync(
            dir, "explicit", "/CN=explicit", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:explicit");

        var result = CertificateSigningRequests.ReadFile(csrPath);

        Assert.That(result.IsSuccess, Is.False);
        Assert.That(result.Error!.Code, Is.EqualTo(PkiErrors.KeyUnsupportedCurve));
    }

    [Test]
    public void DotNetP384Csr_IsRefused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var der = new CertificateRequest(Subject, key, HashAlgorithmName.SHA384).CreateSigningRequest();

        var result = CertificateSigningRequests.Parse(der);

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.KeyUnsupportedCurve));
    }

    [Test]
    public void CsrWithAlteredSubject_FailsSignatureCheck()
    {
        using var key = EcKeys.GenerateP256();
        var der = CertificateSigningRequests.Create(Subject, key);

        // Same length, so the DER stays well-formed and only the signature can notice.
        var at = der.AsSpan().IndexOf("member-70000001"u8);
        Assert.That(at, Is.GreaterThan(0));
        der[at + "member-".Length] = (byte)'9';

        var result = CertificateSigningRequests.Parse(der);

        Assert.That(result.IsSuccess, Is.False);
        Assert.That(result.Error!.Code, Is.EqualTo(PkiErrors.CsrBadSignature));
    }

    [Test]
    public void CsrSignedByAnotherKey_FailsSignatureCheck()
    {
        using var key = EcKeys.GenerateP256();
        using var other = EcKeys.GenerateP256();

        // The request carries `key` but is signed by `other`.
        var request = new CertificateRequest(Subject, new PublicKey(key), HashAlgorithmName.SHA256);
        var der = request.CreateSigningRequest(X509SignatureGenerator.CreateForECDsa(other));

        var result = CertificateSigningRequests.Parse(der);

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.CsrBadSignature));
    }

    [TestCase("")]
    [TestCase("not a csr at all")]
    [TestCase("-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n")]
    [TestCase("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")]
    public void Garbage_IsMalformed(string input)
    {
        var result = CertificateSigningRequests.Parse(Encoding.ASCII.GetBytes(input));

        Assert.That(result.IsSuccess, Is.False);
        Assert.That(result.Error!.Code, Is.EqualTo(PkiErrors.CsrMalformed));
    }

    [Test]
    public void RandomBytes_AreMalformed()
    {
        var result = CertificateSigningRequests.Parse(RandomNumberGenerator.GetBytes(600));

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.CsrMalformed));
    }

    [Test]
    public void PemOfAnotherKind_IsMalformed()
    {
        using var ca = CertificateAuthority.CreateRoot(Subject, new FakeTimeProvider(TestClock.Start));

        var result = CertificateSigningRequests.Parse(Encoding.ASCII.GetBytes(ca.Certificate.ExportCertificatePem()));

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.CsrMalformed));
        Assert.That(result.Error!.Message, Does.Contain("'CERTIFICATE'"));
    }

    [Test]
    public void TrailingBytesAfterDer_AreMalformed()
    {
        using var key = EcKeys.GenerateP256();
        byte[] der = [.. CertificateSigningRequests.Create(Subject, key), 0x00];

        var result = CertificateSigningRequests.Parse(der);

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.CsrMalformed));
    }

    [Test]
    public void OversizedInput_IsRefusedBeforeParsing()
    {
        using var key = EcKeys.GenerateP256();
        var pem = CertificateSigningRequests.CreatePem(Subject, key);

        // A valid request buried in padding: the size alone must stop it.
        var padded = Encoding.ASCII.GetBytes(pem + new string('\n', CertificateSigningRequests.MaxCsrBytes));

        var result = CertificateSigningRequests.Parse(padded);

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.CsrTooLarge));
    }

    [Test]
    public void ReadFile_OversizedFile_IsTooLarge()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("big.csr"), new byte[CertificateSigningRequests.MaxCsrBytes + 1]);

        var result = CertificateSigningRequests.ReadFile(dir.File("big.csr"));

        Assert.That(result.Error?.Code, Is.EqualTo(PkiErrors.CsrTooLarge));
    }

    [Test]
    public void Create_ForNonP256Key_Throws()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        var ex = Assert.Throws<PkiException>(() => CertificateSigningRequests.Create(Subject, key));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.KeyUnsupportedCurve));
    }
}
