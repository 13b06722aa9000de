// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Grpc.Tls;

/// <summary>
/// Exactly these certificates, compared by the SHA-256 of their DER: for a server that must be
/// one particular party (the registry), where a chain to the bus's root would also admit every
/// other holder of a server certificate from the same CA. Use as
/// <see cref="BusChannelOptions.ServerCertificateCheck"/>, after the chain check.
/// </summary>
public sealed class CertificatePin
{
    private readonly byte[][] _sha256;

    public CertificatePin(IEnumerable<X509Certificate2> pinned)
    {
        ArgumentNullException.ThrowIfNull(pinned);
        _sha256 = [.. pinned.Select(c => SHA256.HashData(c.RawData))];
        if (_sha256.Length == 0)
        {
            throw new ArgumentException("At least one pinned certificate is required.", nameof(pinned));
        }
    }

    public bool Matches(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var sha256 = SHA256.HashData(certificate.RawData);
        var found = false;
        foreach (var pinned in _sha256)
        {
            found |= CryptographicOperations.FixedTimeEquals(pinned, sha256);
        }

        return found;
    }
}
