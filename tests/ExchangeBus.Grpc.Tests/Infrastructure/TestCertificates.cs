// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>
/// A throwaway PKI for transport tests: a trusted root, a foreign root, and leaves issued by
/// each. The transport does not care who issued what beyond the chain, so these are plain
/// X.509 made with .NET; the bus's own profiles are tested in ExchangeBus.Core.Tests.
/// </summary>
internal sealed class TestCertificates
{
    private static readonly Lazy<TestCertificates> Shared = new(() => new TestCertificates());

    private TestCertificates()
    {
        var now = DateTimeOffset.UtcNow;
        Root = CreateRoot("CN=ExchangeBus Test Root", now);
        ForeignRoot = CreateRoot("CN=Somebody Else's Root", now);
        Server = Issue(Root, "CN=localhost", now.AddDays(-1), now.AddDays(30), server: true);
        Client = Issue(Root, "CN=client", now.AddDays(-1), now.AddDays(30), server: false);
        OtherClient = Issue(Root, "CN=other-client", now.AddDays(-1), now.AddDays(30), server: false);
        ForeignClient = Issue(ForeignRoot, "CN=foreign-client", now.AddDays(-1), now.AddDays(30), server: false);
        ForeignServer = Issue(ForeignRoot, "CN=localhost", now.AddDays(-1), now.AddDays(30), server: true);
        ExpiredClient = Issue(Root, "CN=expired-client", now.AddDays(-30), now.AddDays(-1), server: false);
    }

    public static TestCertificates Instance => Shared.Value;

    public X509Certificate2 Root { get; }

    public X509Certificate2 ForeignRoot { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Client { get; }

    public X509Certificate2 OtherClient { get; }

    public X509Certificate2 ForeignClient { get; }

    public X509Certificate2 ForeignServer { get; }

    public X509Certificate2 ExpiredClient { get; }

    /// <summary>Writes a certificate and its key as PEM, for the Node.js peer.</summary>
    public static (string CertPath, string KeyPath) WritePem(X509Certificate2 certificate, string directory, string name)
    {
        var certPath = Path.Combine(directory, name + ".pem");
        var keyPath = Path.Combine(directory, name + ".key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        if (certificate.HasPrivateKey)
        {
            using var key = certificate.GetECDsaPrivateKey()!;
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        return (certPath, keyPath);
    }

    private static X509Certificate2 CreateRoot(string subject, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-60), now.AddYears(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, string subject, DateTimeOffset notBefore, DateTimeOffset notAfter, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };
        if (server)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issuerKey = issuer.GetECDsaPrivateKey()!;
        using var certificate = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notAfter, serial);
        return certificate.CopyWithPrivateKey(key);
    }
}
