// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Core.Tests.Signing;

/// <summary>
/// Checks the signature rule against the real openssl command line, in both directions, so
/// "any implementation can verify it" is tested rather than claimed. These tests need
/// <c>openssl</c> on the PATH and fail (not skip) without it: the interop promise is part of
/// the design.
/// </summary>
public sealed partial class OpenSslInteropTests
{
    private static readonly byte[] Header = "\n\u0013VN/GOV/H01/registry\u0012\ngetCitizen"u8.ToArray();
    private static readonly byte[] Body = "{\"id\":\"001099012345\",\"fields\":[\"name\",\"birthDate\"]}"u8.ToArray();

    private string _folder = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = Path.Combine(Path.GetTempPath(), "xbus-sig-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task OpenSslVerify_OurSignature_VerifiedOk()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = new EnvelopeSigner(key).Sign(Header, Body);
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), EnvelopeDigest.Compute(Header, Body));
        await File.WriteAllBytesAsync(PathOf("sig.der"), signature);
        await File.WriteAllTextAsync(PathOf("pub.pem"), key.ExportSubjectPublicKeyInfoPem());

        var result = await OpenSsl("dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "tbs.bin");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.StdOut, Does.Contain("Verified OK"));
        }
    }

    [Test]
    public async Task OpenSslVerify_TamperedToBeSigned_Fails()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = new EnvelopeSigner(key).Sign(Header, Body);
        var toBeSigned = EnvelopeDigest.Compute(Header, Body);
        toBeSigned[40] ^= 0x01;
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), toBeSigned);
        await File.WriteAllBytesAsync(PathOf("sig.der"), signature);
        await File.WriteAllTextAsync(PathOf("pub.pem"), key.ExportSubjectPublicKeyInfoPem());

        var result = await OpenSsl("dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "tbs.bin");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
            Assert.That(result.StdOut, Does.Not.Contain("Verified OK"));
        }
    }

    [Test]
    public async Task OpenSslVerify_TamperedSignatureFile_Fails()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = new EnvelopeSigner(key).Sign(Header, Body);
        signature[^1] ^= 0x01;
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), EnvelopeDigest.Compute(Header, Body));
        await File.WriteAllBytesAsync(PathOf("sig.der"), signature);
        await File.WriteAllTextAsync(PathOf("pub.pem"), key.ExportSubjectPublicKeyInfoPem());

        var result = await OpenSsl("dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "tbs.bin");

        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
    }

    [Test]
    public async Task Verify_SignatureMadeByOpenSsl_ReturnsTrue()
    {
        await RunOk("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem");
        await RunOk("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem");
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), EnvelopeDigest.Compute(Header, Body));
        await RunOk("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.der", "tbs.bin");

        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(await File.ReadAllTextAsync(PathOf("pub.pem")));
        var signature = await File.ReadAllBytesAsync(PathOf("sig.der"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, publicKey), Is.True);
            Assert.That(EnvelopeVerifier.Verify(Header, [.. Body, (byte)' '], signature, publicKey), Is.False);
        }
    }

    [Test]
    public async Task Verify_SignatureAndCertificateMadeByOpenSsl_ReturnsTrue()
    {
        await RunOk(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=VN\\/GOV\\/H01", "-days", "1");
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), EnvelopeDigest.Compute(Header, Body));
        await RunOk("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.der", "tbs.bin");

        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(PathOf("cert.pem")));
        var signature = await File.ReadAllBytesAsync(PathOf("sig.der"));

        Assert.That(EnvelopeVerifier.Verify(Header, Body, signature, certificate), Is.True);
    }

    [Test]
    public async Task SignWithOpenSslKey_OpenSslVerifies()
    {
        // Our signer with a key file openssl made, checked by openssl: the key import path too.
        await RunOk("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem");
        await RunOk("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem");
        using var key = ECDsa.Create();
        key.ImportFromPem(await File.ReadAllTextAsync(PathOf("key.pem")));
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), EnvelopeDigest.Compute(Header, Body));
        await File.WriteAllBytesAsync(PathOf("sig.der"), new EnvelopeSigner(key).Sign(Header, Body));

        var result = await OpenSsl("dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "tbs.bin");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.StdOut, Does.Contain("Verified OK"));
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task BatchFormCheckFromTheDocs_RunAsWritten_VerifiesOurSignature_AndRefusesAnotherLeaf(bool tampered)
    {
        // The commands of docs/design/envelope-signature.md, "Checking a batch-form signature with openssl", verbatim.
        var doc = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "design", "envelope-signature.md"));
        var commands = BatchCheckBlock().Match(doc);
        Assert.That(commands.Success, Is.True, "the doc's batch check block");

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var tbs = Enumerable.Range(0, 11).Select(i => EnvelopeDigest.Compute(Header, [.. Body, (byte)i])).ToList();
        var signatures = new EnvelopeSigner(key).SignBatch(tbs);
        await File.WriteAllBytesAsync(PathOf("tbs.bin"), tampered ? tbs[5] : tbs[6]);
        await File.WriteAllBytesAsync(PathOf("sig.bin"), signatures[6]);
        await File.WriteAllTextAsync(PathOf("pub.pem"), key.ExportSubjectPublicKeyInfoPem());

        var result = await Run("sh", "-c", "set -e\n" + commands.Groups[1].Value);

        using (Assert.EnterMultipleScope())
        {
            if (tampered)
            {
                Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
                Assert.That(result.StdErr, Does.Contain("the path does not lead from tbs to the root"));
            }
            else
            {
                Assert.That(result.ExitCode, Is.Zero, result.ToString());
                Assert.That(result.StdOut, Does.Contain("leaf 6 of 11").And.Contain("Verified OK"));
            }
        }
    }

    [GeneratedRegex(@"^<!-- run-by-test: batch -->\n```sh\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex BatchCheckBlock();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ExchangeBus.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ExchangeBus.sln not found above " + AppContext.BaseDirectory);
    }

    private string PathOf(string name) => Path.Combine(_folder, name);

    private async Task RunOk(params string[] arguments)
    {
        var result = await OpenSsl(arguments);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
    }

    private Task<ProcessResult> OpenSsl(params string[] arguments) => Run("openssl", arguments);

    private async Task<ProcessResult> Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"These interop tests need the {program} command on the PATH: {e.Message}");
            throw;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"exit {ExitCode}; stdout: {StdOut.Trim()}; stderr: {StdErr.Trim()}";
    }
}
