// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.TrustServices;

namespace ExchangeBus.Registry.TrustServices;

/// <summary>
/// Where the OCSP responder learns the status of a certificate the CA issued: the registry's
/// certificate store in production, <see cref="InMemoryCertificateStatusSource"/> in tests.
/// </summary>
public interface ICertificateStatusSource
{
    /// <summary>
    /// The status of the certificate with this serial number, or null when the CA never issued
    /// it (the responder then answers "unknown"). <paramref name="serialNumberHex"/> is in the
    /// form of <see cref="CertificateStatusInfo.NormaliseSerialNumber"/>: upper-case hex without
    /// leading zeros. May be called concurrently; an exception becomes an internalError response.
    /// </summary>
    CertificateStatusInfo? Find(string serialNumberHex);
}

/// <summary>Good, or revoked at a time for a reason: what the CA knows about one certificate.</summary>
public sealed class CertificateStatusInfo
{
    private CertificateStatusInfo(OcspCertificateStatus status, DateTimeOffset? revokedAt, RevocationReason? reason)
    {
        Status = status;
        RevokedAt = revokedAt;
        Reason = reason;
    }

    /// <summary>Issued and not revoked.</summary>
    public static CertificateStatusInfo Good { get; } = new(OcspCertificateStatus.Good, null, null);

    /// <summary><see cref="OcspCertificateStatus.Good"/> or <see cref="OcspCertificateStatus.Revoked"/>.</summary>
    public OcspCertificateStatus Status { get; }

    public DateTimeOffset? RevokedAt { get; }

    /// <summary>The CRL reason; null leaves it out of the response.</summary>
    public RevocationReason? Reason { get; }

    /// <summary>Revoked at <paramref name="revokedAt"/>; <paramref name="reason"/> null when none was given.</summary>
    public static CertificateStatusInfo Revoked(DateTimeOffset revokedAt, RevocationReason? reason) =>
        new(OcspCertificateStatus.Revoked, revokedAt, reason);

    /// <summary>
    /// Upper-case hex without colons, spaces or leading zeros ("0" for zero). Accepts
    /// <see cref="X509Certificate2.SerialNumber"/>, openssl's forms and the responder's own.
    /// </summary>
    public static string NormaliseSerialNumber(string serialNumber)
    {
        ArgumentNullException.ThrowIfNull(serialNumber);
        var hex = serialNumber.Replace(":", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant().TrimStart('0');
        return hex.Length > 0 ? hex : "0";
    }

    /// <summary>The normalised serial number of <paramref name="certificate"/>.</summary>
    public static string SerialNumberOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return NormaliseSerialNumber(certificate.SerialNumber);
    }
}
