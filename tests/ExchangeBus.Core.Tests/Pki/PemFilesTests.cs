// SPDX-License-Identifier: Apache-2.0
using System.Runtime.Versioning;
using System.Security.Cryptography;
using ExchangeBus.Core.Pki;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Core.Tests.Pki;

[Platform(Exclude = "Win", Reason = "Unix file modes.")]
[UnsupportedOSPlatform("windows")]
public sealed class PemFilesTests
{
    private static readonly byte[] Data = "payload to sign"u8.ToArray();

    [Test]
    public void WritePrivateKey_CreatesFileReadableByOwnerOnly()
    {
        using var dir = new TempDirectory();
        using var key = EcKeys.GenerateP256();

        PemFiles.WritePrivateKey(dir.File("k.pem"), key);

        Assert.That(File.GetUnixFileMode(dir.File("k.pem")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void WritePrivateKey_MissingDirectory_IsCreatedOwnerOnly()
    {
        using var dir = new TempDirectory();
        using var key = EcKeys.GenerateP256();
        var nested = Path.Combine(dir.Path, "data", "keys");

        PemFiles.WritePrivateKey(Path.Combine(nested, "k.pem"), key);

        Assert.That(
            File.GetUnixFileMode(nested),
            Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
    }

    [Test]
    public void WritePrivateKey_IsPkcs8Pem_AndLeavesNoTemporaryFile()
    {
        using var dir = new TempDirectory();
        using var key = EcKeys.GenerateP256();

        PemFiles.WritePrivateKey(dir.File("k.pem"), key);

        var text = File.ReadAllText(dir.File("k.pem"));
        Assert.That(text, Does.StartWith("-----BEGIN PRIVATE KEY-----\n"));
        Assert.That(text, Does.EndWith("-----END PRIVATE KEY-----\n"));
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "k.pem" }));
    }

    [Test]
    public void PrivateKey_RoundTrips()
    {
        using var dir = new TempDirectory();
        using var key = EcKeys.GenerateP256();
        PemFiles.WritePrivateKey(dir.File("k.pem"), key);

        using var read = PemFiles.ReadPrivateKey(dir.File("k.pem"));

        Assert.That(EcKeys.IsP256(read), Is.True);
        Assert.That(key.VerifyData(Data, read.SignData(Data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256), Is.True);
    }

    [Test]
    public void WritePrivateKey_ExistingFile_IsKeptUnlessOverwrite()
    {
        using var dir = new TempDirectory();
        using var first = EcKeys.GenerateP256();
        using var second = EcKeys.GenerateP256();
        PemFiles.WritePrivateKey(dir.File("k.pem"), first);
        var before = File.ReadAllBytes(dir.File("k.pem"));

        var ex = Assert.Throws<PkiException>(() => PemFiles.WritePrivateKey(dir.File("k.pem"), second));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.FileAlreadyExists));
        Assert.That(File.ReadAllBytes(dir.File("k.pem")), Is.EqualTo(before));

        PemFiles.WritePrivateKey(dir.File("k.pem"), second, overwrite: true);
        using var read = PemFiles.ReadPrivateKey(dir.File("k.pem"));
        Assert.That(read.ExportSubjectPublicKeyInfo(), Is.EqualTo(second.ExportSubjectPublicKeyInfo()));
        Assert.That(File.GetUnixFileMode(dir.File("k.pem")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void ReadPrivateKey_FileReadableByGroup_IsRefused()
    {
        using var dir = new TempDirectory();
        using var key = EcKeys.GenerateP256();
        PemFiles.WritePrivateKey(dir.File("k.pem"), key);
        File.SetUnixFileMode(dir.File("k.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var ex = Assert.Throws<PkiException>(() => PemFiles.ReadPrivateKey(dir.File("k.pem")));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.KeyInsecurePermissions));
    }

    [Test]
    public async Task ReadPrivateKey_OpenSslP256Key_IsAccepted()
    {
        using var dir = new TempDirectory();
        await OpenSsl.RunOkAsync(dir.Path, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k.pem");
        File.SetUnixFileMode(dir.File("k.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var key = PemFiles.ReadPrivateKey(dir.File("k.pem"));

        Assert.That(EcKeys.IsP256(key), Is.True);
    }

    [TestCase("EC", "ec_paramgen_curve:P-384", PkiErrors.KeyUnsupportedCurve)]
    [TestCase("RSA", "rsa_keygen_bits:2048", PkiErrors.KeyUnsupportedAlgorithm)]
    public async Task ReadPrivateKey_OpenSslKeyOfOtherKind_IsRefused(string algorithm, string option, string code)
    {
        using var dir = new TempDirectory();
        await OpenSsl.RunOkAsync(dir.Path, "genpkey", "-algorithm", algorithm, "-pkeyopt", option, "-out", "k.pem");
        File.SetUnixFileMode(dir.File("k.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var ex = Assert.Throws<PkiException>(() => PemFiles.ReadPrivateKey(dir.File("k.pem")));

        Assert.That(ex.Code, Is.EqualTo(code));
    }

    [Test]
    public void ReadPrivateKey_CertificateFile_IsRefusedAsMalformed()
    {
        using var dir = new TempDirectory();
        using var ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "CA"), new FakeTimeProvider(TestClock.Start));
        PemFiles.WriteCertificate(dir.File("c.pem"), ca.Certificate);
        File.SetUnixFileMode(dir.File("c.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var ex = Assert.Throws<PkiException>(() => PemFiles.ReadPrivateKey(dir.File("c.pem")));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.KeyMalformed));
    }

    [Test]
    public void Certificate_RoundTrips_AndIsPublicReadable()
    {
        using var dir = new TempDirectory();
        using var ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "CA"), new FakeTimeProvider(TestClock.Start));

        PemFiles.WriteCertificate(dir.File("c.pem"), ca.Certificate);
        using var read = PemFiles.ReadCertificate(dir.File("c.pem"));

        Assert.That(read.RawData, Is.EqualTo(ca.Certificate.RawData));
        Assert.That(File.GetUnixFileMode(dir.File("c.pem")).HasFlag(UnixFileMode.OtherRead), Is.True);
    }

    [Test]
    public void ReadCertificate_OversizedFile_IsRefusedBeforeReading()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("big.pem"), new byte[PemFiles.MaxFileBytes + 1]);

        var ex = Assert.Throws<PkiException>(() => PemFiles.ReadCertificate(dir.File("big.pem")));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.FileTooLarge));
    }

    [Test]
    public void ReadCertificate_MissingFile_HasCode()
    {
        using var dir = new TempDirectory();

        var ex = Assert.Throws<PkiException>(() => PemFiles.ReadCertificate(dir.File("none.pem")));

        Assert.That(ex.Code, Is.EqualTo(PkiErrors.FileNotFound));
    }
}
