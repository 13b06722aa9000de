// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// The certificate the node shows its own agency's systems on the local TLS listener. It is not
/// a bus certificate: the systems pin it (as X-Road's "internal TLS certificate"), so the node
/// makes a self-signed one on first start. An operator may replace both files with one from the
/// agency's own CA; the node then serves that.
/// </summary>
public static class InternalTlsCertificate
{
    /// <summary>Long-lived like X-Road's internal certificate: rotating it means re-pinning every system.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(5 * 365);

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    public static X509Certificate2 LoadOrCreate(NodePaths paths, NodeId node, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(time);
        if (!File.Exists(paths.InternalTlsCertificate) || !File.Exists(paths.InternalTlsKey))
        {
            Create(paths, node, time);
        }

        using var key = PemFiles.ReadPrivateKey(paths.InternalTlsKey);
        using var certificate = PemFiles.ReadCertificate(paths.InternalTlsCertificate);
        if (!certificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{paths.InternalTlsCertificate} does not match {paths.InternalTlsKey}.");
        }

        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>SHA-256 of the DER certificate, upper-case hex: what systems and node.json pin.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }

    private static void Create(NodePaths paths, NodeId node, TimeProvider time)
    {
        using var key = EcKeys.GenerateP256();
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationalUnitName("ExchangeBus local interface");
        subject.AddCommonName(node.ToString());
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
        PemFiles.WritePrivateKey(paths.InternalTlsKey, key, overwrite: true);
        PemFiles.WriteCertificate(paths.InternalTlsCertificate, certificate, overwrite: true);
    }
}
