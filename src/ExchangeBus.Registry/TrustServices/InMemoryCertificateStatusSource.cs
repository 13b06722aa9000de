// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.TrustServices;

namespace ExchangeBus.Registry.TrustServices;

/// <summary>Certificate statuses held in memory: for tests and development, not for a real registry.</summary>
public sealed class InMemoryCertificateStatusSource : ICertificateStatusSource
{
    private readonly ConcurrentDictionary<string, CertificateStatusInfo> statuses = new(StringComparer.Ordinal);

    /// <summary>Records <paramref name="certificate"/> as issued and good.</summary>
    public void SetGood(X509Certificate2 certificate) =>
        statuses[CertificateStatusInfo.SerialNumberOf(certificate)] = CertificateStatusInfo.Good;

    /// <summary>Records <paramref name="certificate"/> as revoked.</summary>
    public void Revoke(X509Certificate2 certificate, DateTimeOffset revokedAt, RevocationReason? reason) =>
        statuses[CertificateStatusInfo.SerialNumberOf(certificate)] = CertificateStatusInfo.Revoked(revokedAt, reason);

    /// <summary>Sets the status of a serial number in any form <see cref="CertificateStatusInfo.NormaliseSerialNumber"/> accepts.</summary>
    public void Set(string serialNumber, CertificateStatusInfo status)
    {
        ArgumentNullException.ThrowIfNull(status);
        statuses[CertificateStatusInfo.NormaliseSerialNumber(serialNumber)] = status;
    }

    /// <summary>Forgets a serial number, so the responder answers "unknown" for it.</summary>
    public bool Remove(string serialNumber) => statuses.TryRemove(CertificateStatusInfo.NormaliseSerialNumber(serialNumber), out _);

    public CertificateStatusInfo? Find(string serialNumberHex) =>
        statuses.TryGetValue(CertificateStatusInfo.NormaliseSerialNumber(serialNumberHex), out var status) ? status : null;
}
