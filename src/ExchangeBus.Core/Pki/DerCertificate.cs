// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// Loads a certificate from a field that holds DER. .NET's loader also takes PEM and ignores
/// bytes after the certificate, so an altered field could load as the genuine certificate while a
/// hash over the field (what logs and caches keep) names other bytes. Only the exact encoding is
/// taken.
/// </summary>
public static class DerCertificate
{
    /// <exception cref="CryptographicException">The bytes are not exactly one DER-encoded certificate.</exception>
    public static X509Certificate2 Load(ReadOnlySpan<byte> der)
    {
        var certificate = X509CertificateLoader.LoadCertificate(der);
        if (certificate.RawDataMemory.Span.SequenceEqual(der))
        {
            return certificate;
        }

        certificate.Dispose();
        throw new CryptographicException("The bytes are not exactly one DER-encoded certificate.");
    }
}
