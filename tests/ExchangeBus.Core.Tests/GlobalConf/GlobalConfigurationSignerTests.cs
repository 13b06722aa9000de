// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Tests.Pki;

namespace ExchangeBus.Core.Tests.GlobalConf;

public sealed class GlobalConfigurationSignerTests
{
    private GlobalConfTestPki pki = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp() => pki = new GlobalConfTestPki();

    [OneTimeTearDown]
    public void OneTimeTearDown() => pki.Dispose();

    [Test]
    public void Sign_CarriesTheSerializedConfigurationUnchanged()
    {
        var configuration = pki.Configuration();

        var signed = pki.Signer.Sign(configuration);

        Assert.That(GlobalConfiguration.Parser.ParseFrom(signed.Configuration), Is.EqualTo(configuration));
    }

    [Test]
    public void Sign_NamesTheCertificateBySha256OfItsDer()
    {
        var signed = pki.Signer.Sign(pki.Configuration());

        Assert.That(signed.SignerCertificateSha256.ToByteArray(), Is.EqualTo(SHA256.HashData(pki.SigningCertificate.RawData)));
    }

    [Test]
    public void Sign_SignatureIsDerEcdsaSha256OverTheCarriedBytes()
    {
        var signed = pki.Signer.Sign(pki.Configuration());
        using var publicKey = pki.SigningCertificate.GetECDsaPublicKey()!;

        var verifies = publicKey.VerifyData(
            signed.Configuration.Span, signed.Signature.Span, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(verifies, Is.True);
            Assert.That(signed.Signature.Span[0], Is.EqualTo(0x30), "a DER SEQUENCE, not the 64-byte r||s form");
        }
    }

    [Test]
    public async Task OpenSsl_VerifiesTheSignatureOverTheCarriedBytes()
    {
        // The rule is "ECDSA SHA-256 over the bytes as transmitted": any implementation can check it.
        using var folder = new TempDirectory();
        var signed = pki.Signer.Sign(pki.Configuration());
        await File.WriteAllBytesAsync(folder.File("configuration.bin"), signed.Configuration.ToByteArray());
        await File.WriteAllBytesAsync(folder.File("signature.der"), signed.Signature.ToByteArray());
        await File.WriteAllTextAsync(folder.File("signer.pem"), pki.SigningCertificate.ExportCertificatePem());
        await OpenSsl.RunOkAsync(folder.Path, "x509", "-in", "signer.pem", "-pubkey", "-noout", "-out", "pub.pem");

        var result = await OpenSsl.RunOkAsync(
            folder.Path, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "signature.der", "configuration.bin");

        Assert.That(result.Output, Does.Contain("Verified OK"));
    }

    [Test]
    public void Constructor_KeyOfAnotherCertificate_Throws()
    {
        Assert.Throws<ArgumentException>(() => _ = new GlobalConfigurationSigner(pki.SigningCertificate, pki.OtherSigningKey));
    }

    [Test]
    public void Constructor_NotP256_Throws()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<ArgumentException>(() => _ = new GlobalConfigurationSigner(pki.SigningCertificate, key));
    }

    [Test]
    public void Sign_TwiceTheSameConfiguration_VerifiesBoth()
    {
        // ECDSA signatures are randomized; both must verify, and the node treats the second as
        // the same configuration (same bytes) rather than a conflict.
        var configuration = pki.Configuration(version: 2);
        var first = pki.Signer.Sign(configuration);
        var second = pki.Signer.Sign(configuration);
        var verifier = pki.Verifier();

        var installed = verifier.Verify(first, installed: null);
        var again = verifier.Verify(second, installed.View);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(installed.IsValid, Is.True, installed.ToString());
            Assert.That(again.Code, Is.EqualTo(GlobalConfErrors.NotNewer));
        }
    }

    [Test]
    public void UsingTheRealProfile_SigningCertificateValidatesAsConfigurationSigning()
    {
        using var validator = new CertificateChainValidator([pki.Root.Certificate], pki.Clock);

        var result = validator.Validate(pki.SigningCertificate, CertificateProfile.ConfigurationSigning);

        Assert.That(result.IsValid, Is.True, string.Join("; ", result.Errors));
    }
}
