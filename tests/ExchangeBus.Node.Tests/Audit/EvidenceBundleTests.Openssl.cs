// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Registry.Tests.TrustServices;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// The bundle checked as an auditor without xbus would: its check.sh (real openssl, python3 and
/// sh), now and with the clock moved ahead by libfaketime, trusting only the configuration
/// anchor's root; and the openssl commands of the docs, run as written.
/// </summary>
public sealed partial class EvidenceBundleTests
{
    /// <summary>What check.sh prints for this bundle: 2 lines for the bundle, 12 per signed record with a body, 1 for streamed calls (none here), 8 per head (the last for renewals, none here).</summary>
    private const int CheckLines = 2 + (2 * 12) + 1 + 8;

    [Test]
    public async Task CheckScript_WithTheAnchorsRoot_PassesEveryCheck_AndLeavesTheFolderAsItsManifestSays()
    {
        var bundle = await UnpackAsync(_bundle);

        var check = await Sh("sh bundle/check.sh anchor-root.pem");

        Assert.That(check.ExitCode, Is.Zero, check.All);
        Assert.That(OkLines(check), Has.Length.EqualTo(CheckLines), check.All);
        Assert.That(check.Output, Does.Contain($"ok      records/{_sequences[0]}: ocsp.der says signer.pem is good"));
        var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(bundle, "manifest.json"))).RootElement.GetProperty("sha256");
        var listed = manifest.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        var present = Directory.EnumerateFiles(bundle, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(bundle, f).Replace('\\', '/'))
            .Where(f => f != "manifest.json")
            .ToDictionary(f => f, f => (string?)Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(bundle, f)))));
        Assert.That(present, Is.EqualTo(listed), "check.sh wrote its scratch files elsewhere and removed them");
    }

    [TestCase("+2h", 0, 2)]
    [TestCase("+3y", 3 * 365, 0)]
    public async Task CheckScriptAndVerifier_WithTheClockMovedAhead_StillPass_TrustingOnlyTheAnchorsRoot(string ahead, int days, int hours)
    {
        await UnpackAsync(_bundle);
        var moved = await Faketime(ahead, "date +%s");
        Assert.That(long.Parse(moved.Output, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(DateTimeOffset.UtcNow.AddDays(days).AddHours(hours).AddMinutes(-10).ToUnixTimeSeconds()), "faketime moves the clock");

        var check = await Faketime(ahead, "sh bundle/check.sh anchor-root.pem");
        var verification = AnchorVerifier(TimeSpan.FromDays(days) + TimeSpan.FromHours(hours)).Verify(new MemoryStream(_bundle));

        Assert.That(check.ExitCode, Is.Zero, check.All);
        Assert.That(OkLines(check), Has.Length.EqualTo(CheckLines), check.All);
        Assert.That(verification.Problems, Is.Empty);
        Assert.That(verification.HeadTimes.Keys, Is.EqualTo(new[] { _headSize }));
    }

    [Test]
    public async Task BodyByteChanged_CheckScriptAndVerifier_ThreeYearsOn_FailNamingTheBody()
    {
        var r = EvidenceBundle.RecordFolder(_sequences[0]).TrimEnd('/');
        var tampered = Changed(r + "/body.bin", body => body.Length / 2);

        var (check, problems) = await CheckTamperedAsync(tampered);

        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(FailedLines(check), Is.EqualTo(new[]
        {
            "FAILED  every file has the SHA-256 manifest.json lists",
            $"FAILED  {r}: tbs.bin is SHA-256(header.bin) then SHA-256(body.bin)",
            $"FAILED  {r}: body.bin hashes to body_sha256 of record.json",
        }));
        Assert.That(check.Output, Does.Contain($"        {r}/body.bin: not the SHA-256 manifest.json lists"));
        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.ManifestMismatch, r + "/body.bin"), (EvidenceBundleErrors.BodyHashMismatch, r + "/body.bin") }));
    }

    [Test]
    public async Task HeadByteChanged_CheckScriptAndVerifier_ThreeYearsOn_FailNamingTheHeadItsSignatureTokenAndProofs()
    {
        var h = EvidenceBundle.HeadFolder(_headSize).TrimEnd('/');
        var rootHash = TreeHead.Parser.ParseFrom(BundleTestFiles.Unzip(_bundle)[h + "/head.bin"]).RootHash.ToByteArray();
        var tampered = Changed(h + "/head.bin", head => head.AsSpan().IndexOf(rootHash));
        var (r1, r2) = (EvidenceBundle.RecordFolder(_sequences[0]).TrimEnd('/'), EvidenceBundle.RecordFolder(_sequences[1]).TrimEnd('/'));

        var (check, problems) = await CheckTamperedAsync(tampered);

        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(FailedLines(check), Is.EqualTo(new[]
        {
            "FAILED  every file has the SHA-256 manifest.json lists",
            $"FAILED  {r1}: the inclusion proof leads from the record hash to the root of its head (check-record.py)",
            $"FAILED  {r2}: the inclusion proof leads from the record hash to the root of its head (check-record.py)",
            $"FAILED  {h}: head.tst is a token over head.bin by a TSA of the root you trust, at its own time",
            $"FAILED  {h}: head.sig is the signature of signer.pem over head.bin",
        }));
        Assert.That(check.Output, Does.Contain("message imprint mismatch").And.Contain("Signature Verification Failure"));
        Assert.That(problems, Is.EqualTo(new[]
        {
            (EvidenceBundleErrors.ManifestMismatch, h + "/head.bin"),
            (EvidenceBundleErrors.HeadSignatureInvalid, h + "/head.sig"),
            (EvidenceBundleErrors.TimeStampInvalid, h + "/head.tst"),
            (EvidenceBundleErrors.InclusionInvalid, r1 + "/inclusion-proof.json"),
            (EvidenceBundleErrors.InclusionInvalid, r2 + "/inclusion-proof.json"),
        }));
    }

    [Test]
    public async Task TokenByteChanged_CheckScriptAndVerifier_ThreeYearsOn_FailNamingTheToken()
    {
        var h = EvidenceBundle.HeadFolder(_headSize).TrimEnd('/');

        // The last byte of the token is the last of its signature: the token still decodes, with its time.
        var tampered = Changed(h + "/head.tst", token => token.Length - 1);
        var (check, problems) = await CheckTamperedAsync(tampered);

        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(FailedLines(check), Is.EqualTo(new[]
        {
            "FAILED  every file has the SHA-256 manifest.json lists",
            $"FAILED  {h}: head.tst is a token over head.bin by a TSA of the root you trust, at its own time",
        }));
        Assert.That(check.Output, Does.Contain("Verification: FAILED"));
        Assert.That(problems, Is.EqualTo(new[] { (EvidenceBundleErrors.ManifestMismatch, h + "/head.tst"), (EvidenceBundleErrors.TimeStampInvalid, h + "/head.tst") }));
    }

    [Test]
    public async Task CheckScript_GivenAnotherRoot_FailsEveryCheckThatNeedsTheRoot()
    {
        using var other = CertificateAuthority.CreateRoot(CertificateNames.CentralService("VN", "Elsewhere", "Root CA"), TimeProvider.System);
        await UnpackAsync(_bundle);
        await File.WriteAllTextAsync(Path.Combine(_work, "other-root.pem"), other.Certificate.ExportCertificatePem());

        var check = await Sh("sh bundle/check.sh other-root.pem");

        var (r1, r2, h) = (EvidenceBundle.RecordFolder(_sequences[0]).TrimEnd('/'), EvidenceBundle.RecordFolder(_sequences[1]).TrimEnd('/'), EvidenceBundle.HeadFolder(_headSize).TrimEnd('/'));
        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(FailedLines(check), Is.EqualTo(new[]
        {
            "FAILED  root.pem holds only roots you trust",
            $"FAILED  {r1}: signer.pem chains to the root you trust, at the record time",
            $"FAILED  {r1}: ocsp.der is signed by the root or a responder it certified, valid at the record time, and answers for signer.pem",
            $"FAILED  {r1}: ocsp.der says signer.pem is good",
            $"FAILED  {r2}: signer.pem chains to the root you trust, at the record time",
            $"FAILED  {r2}: ocsp.der is signed by the root or a responder it certified, valid at the record time, and answers for signer.pem",
            $"FAILED  {r2}: ocsp.der says signer.pem is good",
            $"FAILED  {h}: head.tst is a token over head.bin by a TSA of the root you trust, at its own time",
            $"FAILED  {h}: signer.pem chains to the root you trust, at the time of head.tst",
        }));
        Assert.That(check.Output, Does.Contain("unable to get local issuer certificate"));
    }

    [Test]
    public async Task CheckScript_WithoutARoot_Exits2_ShowingTheBundledRootsFingerprint_AndChecksNothing()
    {
        await UnpackAsync(_bundle);

        var check = await Sh("sh bundle/check.sh");

        var fingerprint = Convert.ToHexString(SHA256.HashData(_bus.Registry.Keys.RootCertificate.RawData)).Chunk(2).Select(c => new string(c));
        Assert.That(check.ExitCode, Is.EqualTo(2), check.All);
        Assert.That(check.Output, Is.Empty);
        Assert.That(check.Error, Does.StartWith("check.sh: give the root you trust: sh check.sh /path/to/anchor-root.pem\n"));
        Assert.That(check.Error, Does.Contain("sha256 Fingerprint=" + string.Join(':', fingerprint) + "\n"));
        Assert.That(check.Error, Does.Contain("Compare it with your configuration anchor's root and pass that root"));
    }

    [Test]
    public async Task CheckScript_WithoutPython3_FailsTheLinesOfCheckRecordPy_AndOnlyThose()
    {
        await UnpackAsync(_bundle);
        var bin = Directory.CreateDirectory(Path.Combine(_work, "bin")).FullName;
        var linked = await Sh($"for t in sh openssl awk sed date grep cut cmp cat mktemp rm dirname; do ln -s \"$(command -v $t)\" '{bin}/'$t || exit 1; done");
        Assert.That(linked.ExitCode, Is.Zero, linked.All);

        var check = await OpenSsl.ShellAsync(_work, "sh bundle/check.sh anchor-root.pem", new Dictionary<string, string?> { ["PATH"] = bin });

        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(FailedLines(check), Is.EqualTo(_sequences.SelectMany(s => new[]
        {
            $"FAILED  records/{s}: the record hash, recomputed from record.json, header.bin and signature.der (check-record.py)",
            $"FAILED  records/{s}: the inclusion proof leads from the record hash to the root of its head (check-record.py)",
            $"FAILED  records/{s}: signer.pem is a certificate of the member that sent the message (check-record.py)",
        })
            .Append("FAILED  the streamed records, if any, are whole chains: per side and direction every link in order, each naming the hash of the one before, closed by its end record (check-record.py)")
            .Append($"FAILED  heads/{_headSize}: signer.pem is a certificate of the member whose node head.bin names (check-record.py)")));
        Assert.That(check.Output, Does.Contain("python3: not found"));
    }

    [Test]
    public async Task CheckRecordScript_FindsAnEditedField_AProofForAnotherLeaf_AndAHeadSignedByAnotherMember()
    {
        var r = EvidenceBundle.RecordFolder(_sequences[0]).TrimEnd('/');
        var h = EvidenceBundle.HeadFolder(_headSize).TrimEnd('/');
        var files = BundleTestFiles.Unzip(_bundle);
        files[r + "/record.json"] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files[r + "/record.json"]).Replace("\"citizen-042\"", "\"citizen-099\"", StringComparison.Ordinal));
        files[r + "/inclusion-proof.json"] = files[EvidenceBundle.RecordFolder(_sequences[1]) + "inclusion-proof.json"];

        // The request's signer is a real, trusted signing certificate: the client member's, not the node's.
        files[h + "/signer.pem"] = files[r + "/signer.pem"];
        await UnpackAsync(Zip(files));

        var hash = await Sh($"cd bundle && python3 check-record.py hash {r}");
        var inclusion = await Sh($"cd bundle && python3 check-record.py inclusion {r}");
        var signer = await Sh($"cd bundle && python3 check-record.py signer {h} \"$(openssl x509 -in {h}/signer.pem -noout -subject -nameopt RFC2253)\"");

        Assert.That(hash.ExitCode, Is.EqualTo(1), hash.All);
        Assert.That(hash.Output, Does.StartWith($"{r}: the hash recomputed from record.json, header.bin and signature.der is "));
        Assert.That(inclusion.ExitCode, Is.EqualTo(1), inclusion.All);
        Assert.That(inclusion.Output, Is.EqualTo($"{r}/inclusion-proof.json: leaf {_sequences[1] - 1} is not record {_sequences[0]}'s (leaf {_sequences[0] - 1})\n"));
        Assert.That(signer.ExitCode, Is.EqualTo(1), signer.All);
        Assert.That(signer.Output, Is.EqualTo(
            $"{h}/signer.pem: subject=CN=000.00.00.G01,O=GOV,DC=VN is not a signing certificate of the member whose node head.bin names, VN/GOV/000.00.00.H01 (subject=CN=000.00.00.H01,O=GOV,DC=VN)\n"));
    }

    [Test]
    public async Task DocsOpensslCommands_RunAsWrittenInAnUnpackedBundle_PassThreeYearsOn_AndFailWhenTheHeadChanges()
    {
        var blocks = new List<(string Page, string Block)>();
        foreach (var page in (string[])["docs/audit.md", "docs/design/merkle.md"])
        {
            var text = await File.ReadAllTextAsync(Path.Combine(RepositoryFolder.Root(), page));
            var found = BundleBlock().Matches(text).Select(m => (page, m.Groups[1].Value)).ToList();
            Assert.That(found, Is.Not.Empty, $"{page} has blocks marked <!-- run-by-test: bundle -->");
            blocks.AddRange(found);
        }

        Assert.That(blocks, Has.Count.EqualTo(3), "audit.md's two blocks and merkle.md's one");

        // Three years on, when every certificate in the bundle has expired.
        await UnpackAsync(_bundle);
        for (var i = 0; i < blocks.Count; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(_work, $"block-{i}.sh"), blocks[i].Block);
            var run = await Faketime("+3y", $"cd bundle && sh -e ../block-{i}.sh");
            Assert.That(run.ExitCode, Is.Zero, $"{blocks[i].Page}:\n{blocks[i].Block}\n{run}");
        }

        var h = EvidenceBundle.HeadFolder(_headSize);
        var rootHash = TreeHead.Parser.ParseFrom(BundleTestFiles.Unzip(_bundle)[h + "head.bin"]).RootHash.ToByteArray();
        Directory.Delete(_work, recursive: true);
        Directory.CreateDirectory(_work);
        var bundle = await UnpackAsync(Changed(h + "head.bin", head => head.AsSpan().IndexOf(rootHash)));
        foreach (var (page, block) in blocks)
        {
            var run = await OpenSsl.ShellAsync(bundle, "set -e\n" + block);
            Assert.That(run.ExitCode, Is.Not.Zero, $"{page}, with a byte of head.bin changed:\n{block}\n{run}");
        }
    }

    /// <summary>The bundle unzipped into work/bundle, with the configuration anchor beside it as work/anchor.json and its root as work/anchor-root.pem.</summary>
    private async Task<string> UnpackAsync(byte[] zip)
    {
        var bundle = Path.Combine(_work, "bundle");
        ZipFile.ExtractToDirectory(new MemoryStream(zip), bundle);
        var anchor = Path.Combine(_work, "anchor.json");
        File.Copy(Path.Combine(_bus.Root, "anchor.json"), anchor);

        // The root as the bundle's README tells an auditor to take it from the anchor, run as written.
        var readme = await File.ReadAllTextAsync(Path.Combine(bundle, "README.md"));
        var extract = readme.Split('\n').Single(l => l.StartsWith("python3 -c ", StringComparison.Ordinal));
        var root = await Sh(extract);
        Assert.That(root.ExitCode, Is.Zero, root.All);
        using var fromAnchor = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_work, "anchor-root.pem"));
        Assert.That(fromAnchor.RawData, Is.EqualTo(ConfigurationAnchor.Read(anchor).RegistryTlsTrustRoots.Single().RawData));
        return bundle;
    }

    /// <summary>The exported bundle with one byte of <paramref name="file"/> changed (at the index given), its manifest left as it was.</summary>
    private byte[] Changed(string file, Func<byte[], int> index)
    {
        var files = BundleTestFiles.Unzip(_bundle);
        var content = files[file];
        var at = index(content);
        Assert.That(at, Is.InRange(0, content.Length - 1), "the byte to change");
        content[at] ^= 0x01;
        return Zip(files);
    }

    /// <summary>check.sh three years on, and the verifier three years on, over <paramref name="tampered"/>.</summary>
    private async Task<(OpenSslResult Check, (string Code, string File)[] Problems)> CheckTamperedAsync(byte[] tampered)
    {
        await UnpackAsync(tampered);
        var check = await Faketime("+3y", "sh bundle/check.sh anchor-root.pem");
        var problems = AnchorVerifier(TimeSpan.FromDays(3 * 365)).Verify(new MemoryStream(tampered)).Problems.Select(p => (p.Code, p.File)).ToArray();
        return (check, problems);
    }

    /// <summary>The verifier as `xbus audit verify-bundle --anchor` builds it, its clock moved <paramref name="ahead"/>.</summary>
    private EvidenceBundleVerifier AnchorVerifier(TimeSpan ahead) =>
        new(ConfigurationAnchor.Read(Path.Combine(_bus.Root, "anchor.json")).RegistryTlsTrustRoots, new FakeTimeProvider(DateTimeOffset.UtcNow + ahead));

    private Task<OpenSslResult> Sh(string command) => OpenSsl.ShellAsync(_work, command);

    private Task<OpenSslResult> Faketime(string ahead, string command) => BundleTestFiles.FaketimeAsync(_work, ahead, command);

    private static string[] OkLines(OpenSslResult result) => [.. result.Output.Split('\n').Where(l => l.StartsWith("ok ", StringComparison.Ordinal))];

    private static string[] FailedLines(OpenSslResult result) => [.. result.Output.Split('\n').Where(l => l.StartsWith("FAILED", StringComparison.Ordinal))];

    /// <summary>A fenced sh block right after the marker: the docs' openssl commands over a bundle's files.</summary>
    [GeneratedRegex("^<!-- run-by-test: bundle -->\\n```sh\\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex BundleBlock();
}
