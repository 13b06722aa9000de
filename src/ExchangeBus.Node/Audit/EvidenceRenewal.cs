// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.TrustServices;

namespace ExchangeBus.Node.Audit;

/// <summary>
/// One verified time-stamp of a chain: the file it is in, its genTime, and the notAfter of the
/// TSA certificate that signed it — the last moment a renewal can still extend the chain.
/// </summary>
public sealed record StampLink(string File, DateTimeOffset GenTime, DateTimeOffset TsaNotAfter);

/// <summary>What is wrong with a renewal time-stamp: the kinds the bundle and archive codes map to.</summary>
public enum RenewalFault
{
    /// <summary>Its signer does not chain to the trusted root as a TSA at the token's time.</summary>
    Untrusted,

    /// <summary>Not a valid token over everything before it (imprint, signature, order, its TSA file).</summary>
    Invalid,

    /// <summary>Made after the TSA certificate of the time-stamp it renews had expired.</summary>
    TooLate,
}

public sealed record RenewalFinding(RenewalFault Fault, string File, string Message);

/// <summary>A renewal token as stored, with the TSA certificate (PEM) kept beside it.</summary>
public sealed record RenewalToken(string File, byte[] Token, string TsaFile, byte[] TsaPem);

/// <summary>Asks a TSA for a token over <c>data</c> (in practice <see cref="TimeStampClient.RequestForDataAsync"/>).</summary>
public delegate Task<TimeStampVerificationResult> TimeStamper(byte[] data, CancellationToken cancellationToken);

/// <summary>
/// Renewal of time-stamped evidence, after RFC 4998 (evidence records) and ETSI long-term
/// signatures (docs/audit.md, "Renewing evidence"). A token stays valid after its TSA
/// certificate expires only as long as nobody can forge one for a past time: once the TSA's key
/// or hash algorithm may be broken, the token proves nothing. So before that, a new token is
/// made over the evidence and every token before it; it shows that the earlier chain existed
/// while its TSA certificate was still good. Renewal K's imprint is the hash of the evidence's
/// bytes followed by the original token and renewals 1 … K−1, byte for byte, so openssl can
/// check it with <c>-data</c> on a concatenation made with <c>cat</c>; with a stronger hash it is
/// also RFC 4998's hash-tree renewal, since it hashes the evidence itself again.
/// </summary>
public static class EvidenceRenewal
{
    /// <summary>How long before the last TSA certificate's expiry verifiers start to say "renew".</summary>
    public static readonly TimeSpan Notice = TimeSpan.FromDays(90);

    public static string TokenName(int k) => "renewal-" + k.ToString(CultureInfo.InvariantCulture) + ".tst";

    public static string TsaName(int k) => "renewal-" + k.ToString(CultureInfo.InvariantCulture) + ".tsa.pem";

    /// <summary>
    /// Checks <paramref name="renewals"/> in order after <paramref name="first"/>, the original
    /// token(s) over <paramref name="covered"/> (the evidence followed by the original token).
    /// Each must be a valid token at its own genTime over everything before it, made no earlier
    /// than the stamp before it and no later than that stamp's TSA certificate's notAfter.
    /// Stops at the first bad one, since every later renewal rests on it.
    /// </summary>
    /// <returns>The finding (null when all hold) and the last link that held.</returns>
    public static (RenewalFinding? Finding, StampLink Last) Check(
        TimeStampTokenVerifier tokens, ReadOnlySpan<byte> covered, StampLink first, IReadOnlyList<RenewalToken> renewals)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(renewals);

        // One buffer for the whole chain (an archive can be large): renewal K covers a prefix of it.
        var data = new byte[covered.Length + renewals.Sum(r => (long)r.Token.Length)];
        covered.CopyTo(data);
        var length = covered.Length;
        var last = first;
        foreach (var renewal in renewals)
        {
            var result = tokens.VerifyTokenForData(renewal.Token, data.AsSpan(0, length));
            if (!result.IsValid)
            {
                var untrusted = string.Equals(result.Code, TrustServiceErrors.TimeStampUntrustedSigner, StringComparison.Ordinal);
                var what = string.Equals(result.Code, TrustServiceErrors.TimeStampImprintMismatch, StringComparison.Ordinal)
                    ? $"Its imprint does not cover the evidence and every token before it ({last.File} last): "
                    : string.Empty;
                return (new RenewalFinding(untrusted ? RenewalFault.Untrusted : RenewalFault.Invalid, renewal.File, what + result), last);
            }

            var genTime = result.GenTime!.Value;
            using var signer = result.Signer!;
            if (genTime < last.GenTime)
            {
                return (new RenewalFinding(RenewalFault.Invalid, renewal.File, $"Made at {genTime:O}, before the time-stamp it renews ({last.File}, {last.GenTime:O})."), last);
            }

            if (genTime > last.TsaNotAfter)
            {
                return (new RenewalFinding(RenewalFault.TooLate, renewal.File,
                    $"Made at {genTime:O}, after the TSA certificate of {last.File} expired ({last.TsaNotAfter:O}): it proves the evidence existed then, not that the earlier time-stamp was still good."), last);
            }

            if (!SameCertificate(renewal.TsaPem, signer))
            {
                return (new RenewalFinding(RenewalFault.Invalid, renewal.TsaFile, $"Not the certificate of the TSA that signed {renewal.File}."), last);
            }

            last = new StampLink(renewal.File, genTime, NotAfter(signer));
            renewal.Token.CopyTo(data, length);
            length += renewal.Token.Length;
        }

        return (null, last);
    }

    /// <summary>The warning a verifier prints about a chain whose last link is <paramref name="last"/>, or null when none is due.</summary>
    public static string? Warning(string what, StampLink last, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(last);
        var notAfter = last.TsaNotAfter.ToString("O", CultureInfo.InvariantCulture);
        if (now > last.TsaNotAfter)
        {
            return $"{what}: due for renewal since {notAfter}, when the TSA certificate of its last time-stamp ({last.File}) expired. "
                + "It still verifies (every token judged at its own time) while that TSA's key and hash are unbroken; a renewal made now can no longer extend it.";
        }

        return last.TsaNotAfter - now <= Notice
            ? $"{what}: renew it before {notAfter}, when the TSA certificate of its last time-stamp ({last.File}) expires (xbus audit renew)."
            : null;
    }

    /// <summary>Asks <paramref name="stamp"/> for the next renewal over <paramref name="data"/>; a refusal is a <see cref="RenewalRefusedException"/> with the TSA's code.</summary>
    internal static async Task<TimeStampVerificationResult> RequestAsync(TimeStamper stamp, byte[] data, CancellationToken cancellationToken)
    {
        var result = await stamp(data, cancellationToken).ConfigureAwait(false);
        return result.IsValid ? result : throw new RenewalRefusedException(result.Code!, $"The TSA's answer is not a valid token: {result}");
    }

    /// <summary>A certificate's notAfter as a UTC instant.</summary>
    public static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>A DER certificate as the PEM file kept beside a token (for openssl's -untrusted).</summary>
    public static byte[] Pem(ReadOnlySpan<byte> der) => System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString("CERTIFICATE", der) + "\n");

    private static bool SameCertificate(byte[] pem, X509Certificate2 signer)
    {
        try
        {
            var text = System.Text.Encoding.ASCII.GetString(pem);
            return PemEncoding.TryFind(text, out var fields)
                && text[fields.Label] is "CERTIFICATE"
                && Convert.FromBase64String(text[fields.Base64Data]).AsSpan().SequenceEqual(signer.RawData);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>A renewal could not be made: the evidence does not verify, it is too late, or the TSA's answer is not a token.</summary>
public sealed class RenewalRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
