// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// A self-signed TLS server certificate for a listener people or local systems reach directly
/// (a node's local interface, a web console): not a bus certificate, so it is pinned or
/// accepted by its fingerprint. Made once, kept as two PEM files an operator may replace with a
/// certificate from the agency's own CA.
/// </summary>
public static class SelfSignedTlsCertificate
{
    /// <summary>Long-lived like X-Road's internal certificate: rotating it means re-pinning everything that pins it.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(5 * 365);

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    /// <summary>Creates the pair unless both files exist.</summary>
    public static void EnsureCreated(string certificatePath, string keyPath, string organisationalUnit, string commonName, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            return;
        }

        using var key = EcKeys.GenerateP256();
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationalUnitName(organisationalUnit);
        subject.AddCommonName(commonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName(Dns.GetHostName());
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthentication], false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + Validity);

        // Key first: a crash between the two writes leaves a key without a certificate, which
        // the next start replaces, never a certificate whose key is lost.
        PemFiles.WritePrivateKey(keyPath, key, overwrite: true);
        PemFiles.WriteCertificate(certificatePath, certificate, overwrite: true);
    }

    /// <summary>The pair as one certificate with its key; null when the key is not the certificate's.</summary>
    public static X509Certificate2? Load(string certificatePath, string keyPath)
    {
        using var key = PemFiles.ReadPrivateKey(keyPath);
        using var certificate = PemFiles.ReadCertificate(certificatePath);
        return certificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo())
            ? certificate.CopyWithPrivateKey(key)
            : null;
    }
}
