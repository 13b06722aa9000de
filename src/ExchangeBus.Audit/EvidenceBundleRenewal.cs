// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Node.Audit;

namespace ExchangeBus.Audit;

/// <summary>One renewal of one head of a bundle: heads/SIZE/renewal-K.tst, and the bytes its imprint covers.</summary>
public sealed record BundleRenewal(ulong TreeSize, int Number, byte[] Data)
{
    public string TokenFile => EvidenceBundle.HeadFolder(TreeSize) + EvidenceRenewal.TokenName(Number);
}

/// <summary>What <see cref="EvidenceBundleRenewal.RenewAsync"/> made: the renewed bundle and each new stamp's time.</summary>
public sealed record RenewedBundle(byte[] Bundle, IReadOnlyList<(string File, DateTimeOffset GenTime)> Stamps);

/// <summary>
/// Renewing the time-stamps of an evidence bundle (<see cref="EvidenceRenewal"/>): each head
/// folder gains heads/SIZE/renewal-K.tst over head.bin ‖ head.tst ‖ renewal-1.tst ‖ … ‖
/// renewal-(K−1).tst and renewal-K.tsa.pem beside it. Every other file keeps its bytes; the
/// manifest is rewritten to list the new ones, and the zip stays deterministic.
/// </summary>
public static class EvidenceBundleRenewal
{
    /// <summary>
    /// Renews every head of <paramref name="bundle"/>, which must verify now against
    /// <paramref name="trustedRoots"/> and still be renewable (no last TSA certificate expired).
    /// The renewed bundle is verified again before it is returned.
    /// </summary>
    /// <exception cref="RenewalRefusedException">The bundle does not verify, it is too late, or the TSA did not give a valid token.</exception>
    public static async Task<RenewedBundle> RenewAsync(
        byte[] bundle, IReadOnlyList<X509Certificate2> trustedRoots, TimeStamper stamp, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(stamp);
        var verifier = new EvidenceBundleVerifier(trustedRoots, timeProvider);
        var before = verifier.Verify(new MemoryStream(bundle, writable: false));
        if (!before.IsValid)
        {
            throw new RenewalRefusedException(before.Code!, $"The bundle does not verify, so there is nothing to renew: {before.Problems[0]}");
        }

        var now = timeProvider.GetUtcNow();
        if (before.LastStamps.Where(s => s.Value.TsaNotAfter < now).Select(s => s.Value).FirstOrDefault() is { } expired)
        {
            throw new RenewalRefusedException(EvidenceBundleErrors.RenewalTooLate,
                $"The TSA certificate of {expired.File} expired at {expired.TsaNotAfter:O}: a renewal now would not extend the evidence, nothing was changed.");
        }

        var stamps = new List<(BundleRenewal Renewal, byte[] Token)>();
        foreach (var renewal in Pending(bundle))
        {
            var result = await EvidenceRenewal.RequestAsync(stamp, renewal.Data, cancellationToken).ConfigureAwait(false);
            stamps.Add((renewal, result.Token.ToArray()));
        }

        var renewed = AddRenewals(bundle, stamps);
        var after = verifier.Verify(new MemoryStream(renewed, writable: false));
        return after.IsValid
            ? new RenewedBundle(renewed, [.. stamps.Select(s => (s.Renewal.TokenFile, after.LastStamps[s.Renewal.TreeSize].GenTime))])
            : throw new RenewalRefusedException(after.Code!, $"The renewed bundle does not verify: {after.Problems[0]}");
    }

    /// <summary>The next renewal of each head of <paramref name="bundle"/>: what its token must cover.</summary>
    public static IReadOnlyList<BundleRenewal> Pending(byte[] bundle)
    {
        var files = Unzip(bundle);
        var pending = new List<BundleRenewal>();
        foreach (var head in files.Keys.Where(k => k.StartsWith("heads/", StringComparison.Ordinal) && k.EndsWith("/" + EvidenceBundle.HeadFile, StringComparison.Ordinal)))
        {
            var folder = head[..^EvidenceBundle.HeadFile.Length];
            var size = ulong.Parse(folder["heads/".Length..^1], CultureInfo.InvariantCulture);
            var earlier = EvidenceBundle.RenewalsIn(files, folder);
            byte[] data = [.. files[head], .. files[folder + EvidenceBundle.HeadTokenFile], .. earlier.SelectMany(r => r.Token)];
            pending.Add(new BundleRenewal(size, earlier.Count + 1, data));
        }

        return pending;
    }

    /// <summary>
    /// <paramref name="bundle"/> with each token added as its renewal (and its TSA certificate
    /// beside it) and the manifest rewritten; nothing is checked here (the verifier does that).
    /// </summary>
    public static byte[] AddRenewals(byte[] bundle, IEnumerable<(BundleRenewal Renewal, byte[] Token)> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var files = Unzip(bundle);
        foreach (var (renewal, token) in tokens)
        {
            var folder = EvidenceBundle.HeadFolder(renewal.TreeSize);
            files[folder + EvidenceRenewal.TokenName(renewal.Number)] = token;
            files[folder + EvidenceRenewal.TsaName(renewal.Number)] = EvidenceRenewal.Pem(EvidenceBundle.TokenSigner(token));
        }

        // Everything the manifest said stays (a window's bundle keeps its window); only the list of files grows.
        var manifest = EvidenceBundle.ReadManifest(files[EvidenceBundle.ManifestFile]);
        files.Remove(EvidenceBundle.ManifestFile);
        files[EvidenceBundle.ManifestFile] = EvidenceBundle.Manifest(manifest, files);
        return EvidenceBundle.Zip(files);
    }

    private static SortedDictionary<string, byte[]> Unzip(byte[] bundle)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var archive = new ZipArchive(new MemoryStream(bundle, writable: false), ZipArchiveMode.Read);
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            files[entry.FullName] = buffer.ToArray();
        }

        return files;
    }
}
