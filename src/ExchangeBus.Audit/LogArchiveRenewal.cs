// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using ExchangeBus.Core;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.Audit;

namespace ExchangeBus.Audit;

/// <summary>
/// Renewal of an archive's time-stamps (<see cref="EvidenceRenewal"/>), kept in files beside the
/// archive and never inside it: each archive names the SHA-256 of the one before, so rewriting
/// an archive would break its successor's link. ARCHIVE.renewal-K.tst is a token over the
/// archive file's bytes ‖ renewal-1.tst ‖ … ‖ renewal-(K−1).tst (covering the file covers every
/// head's token inside it), ARCHIVE.renewal-K.tsa.pem its TSA certificate.
/// </summary>
public static partial class LogArchiveRenewal
{
    /// <summary>A token with its TSA certificate is about 1 KiB; anything far larger is not one.</summary>
    private const int MaxSidecarBytes = TimeStampVerifierOptions.DefaultMaxTokenBytes;

    public static string TokenPath(string archivePath, int number) => archivePath + "." + EvidenceRenewal.TokenName(number);

    public static string TsaPath(string archivePath, int number) => archivePath + "." + EvidenceRenewal.TsaName(number);

    /// <summary>
    /// Adds the next renewal to the archive at <paramref name="archivePath"/>, which must verify
    /// now against <paramref name="trustedRoots"/> (with the renewals it has) and still be
    /// renewable: the TSA certificate of its last stamp not yet expired.
    /// </summary>
    /// <returns>The new token's path and time.</returns>
    /// <exception cref="ArchiveException">The archive does not verify, or it is too late to renew it.</exception>
    /// <exception cref="RenewalRefusedException">The TSA did not give a valid token.</exception>
    public static async Task<(string TokenPath, DateTimeOffset GenTime)> RenewAsync(
        string archivePath, IReadOnlyList<X509Certificate2> trustedRoots, TimeStamper stamp, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        var before = LogArchiver.Verify(archivePath, null, trustedRoots, timeProvider);
        var last = before.LastStamp!;
        if (last.TsaNotAfter < timeProvider.GetUtcNow())
        {
            throw new ArchiveException(ArchiveErrors.RenewalTooLate,
                $"The TSA certificate of {last.File} expired at {last.TsaNotAfter:O}: a renewal now would not extend the archive's evidence; nothing was written.");
        }

        var number = before.Renewals + 1;
        byte[] data = [.. await File.ReadAllBytesAsync(archivePath, cancellationToken).ConfigureAwait(false), .. Read(archivePath).SelectMany(r => r.Token)];
        var result = await EvidenceRenewal.RequestAsync(stamp, data, cancellationToken).ConfigureAwait(false);
        using (var signer = result.Signer!)
        {
            AtomicFile.WriteOwnerOnly(TsaPath(archivePath, number), EvidenceRenewal.Pem(signer.RawData));
        }

        AtomicFile.WriteOwnerOnly(TokenPath(archivePath, number), result.Token.Span);
        try
        {
            LogArchiver.Verify(archivePath, null, trustedRoots, timeProvider);
        }
        catch (ArchiveException)
        {
            // What does not verify is not evidence: leave the archive as it was.
            File.Delete(TokenPath(archivePath, number));
            File.Delete(TsaPath(archivePath, number));
            throw;
        }

        return (TokenPath(archivePath, number), result.GenTime!.Value);
    }

    /// <summary>
    /// Checks the renewals beside <paramref name="archivePath"/> after its heads' tokens
    /// (<paramref name="heads"/>): renewal 1 must come after every head's token and before the
    /// first of their TSA certificates expired.
    /// </summary>
    /// <returns>How many renewals held (all, or it throws) and the last link of the chain.</returns>
    internal static (int Renewals, StampLink? Last) Check(string archivePath, IReadOnlyList<StampLink> heads, TimeStampTokenVerifier tokens)
    {
        var renewals = Read(archivePath);
        if (heads.Count == 0)
        {
            return renewals.Count == 0 ? (0, null) : throw new ArchiveException(ArchiveErrors.RenewalInvalid, "An archive without time-stamped heads has nothing to renew.");
        }

        var expiresFirst = heads.MinBy(h => h.TsaNotAfter)!;
        var first = expiresFirst with { GenTime = heads.Max(h => h.GenTime) };
        var (finding, last) = EvidenceRenewal.Check(tokens, File.ReadAllBytes(archivePath), first, renewals);
        return finding is null
            ? (renewals.Count, last)
            : throw new ArchiveException(finding.Fault == RenewalFault.TooLate ? ArchiveErrors.RenewalTooLate : ArchiveErrors.RenewalInvalid, $"{finding.File}: {finding.Message}");
    }

    /// <summary>The renewal files beside the archive, numbered 1, 2, … with no gap.</summary>
    private static List<RenewalToken> Read(string archivePath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(archivePath))!;
        var name = Path.GetFileName(archivePath);
        var numbers = Directory.EnumerateFiles(folder, name + ".renewal-*.tst")
            .Select(p => RenewalSuffix().Match(Path.GetFileName(p)[name.Length..]))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        if (!numbers.SequenceEqual(Enumerable.Range(1, numbers.Count)))
        {
            throw new ArchiveException(ArchiveErrors.Malformed, $"The renewals of {name} are numbered 1, 2, … with no gap; found {string.Join(", ", numbers)}.");
        }

        return [.. numbers.Select(k => new RenewalToken(
            Path.GetFileName(TokenPath(archivePath, k)),
            AtomicFile.ReadBounded(TokenPath(archivePath, k), MaxSidecarBytes),
            Path.GetFileName(TsaPath(archivePath, k)),
            File.Exists(TsaPath(archivePath, k)) ? AtomicFile.ReadBounded(TsaPath(archivePath, k), MaxSidecarBytes) : []))];
    }

    [GeneratedRegex(@"\A\.renewal-([1-9][0-9]{0,2})\.tst\z", RegexOptions.CultureInvariant)]
    private static partial Regex RenewalSuffix();
}
