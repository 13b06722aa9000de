// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Registry.TrustServices;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>
/// A root CA with a TSA and an OCSP responder certificate, made with the bus's own PKI code,
/// and written as PEM files to a temporary folder for openssl.
/// </summary>
internal sealed class TestPki : IDisposable
{
    private readonly List<IDisposable> owned = [];

    private TestPki(TimeProvider clock)
    {
        Clock = clock;
        Directory = System.IO.Directory.CreateTempSubdirectory("xbus-trust-").FullName;
        Root = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Test", "Root CA"), clock);
        (TsaCertificate, TsaKey) = IssueWithKey(CertificateProfile.TimeStamping, "Time-Stamping Authority");
        (OcspCertificate, OcspKey) = IssueWithKey(CertificateProfile.OcspSigning, "OCSP Responder");
        File.WriteAllText(PathOf("root.pem"), Root.Certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(PathOf("tsa.pem"), TsaCertificate.ExportCertificatePem() + "\n");
        File.WriteAllText(PathOf("ocsp.pem"), OcspCertificate.ExportCertificatePem() + "\n");
    }

    public TimeProvider Clock { get; }

    public string Directory { get; }

    public CertificateAuthority Root { get; }

    public X509Certificate2 TsaCertificate { get; }

    public ECDsa TsaKey { get; }

    public X509Certificate2 OcspCertificate { get; }

    public ECDsa OcspKey { get; }

    public static TestPki Create(TimeProvider clock) => new(clock);

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>A certificate of <paramref name="profile"/> from the root, with its key.</summary>
    public (X509Certificate2 Certificate, ECDsa Key) IssueWithKey(CertificateProfile profile, string name, TimeSpan? validity = null)
    {
        var key = EcKeys.GenerateP256();
        var certificate = Root.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("DEV", "Test", name),
            PublicKey = new PublicKey(key),
            Profile = profile,
            Validity = validity,
        });
        owned.Add(key);
        owned.Add(certificate);
        return (certificate, key);
    }

    /// <summary>A member signing certificate, written to <c>{name}.pem</c> for openssl.</summary>
    public X509Certificate2 IssueMember(string name)
    {
        var (certificate, _) = IssueWithKey(CertificateProfile.MemberSigning, name);
        File.WriteAllText(PathOf(name + ".pem"), certificate.ExportCertificatePem() + "\n");
        return certificate;
    }

    public TimeStampAuthority CreateTsa(TimeStampAuthorityOptions? options = null) =>
        new(TsaCertificate, Copy(TsaKey), Clock, NullLogger<TimeStampAuthority>.Instance, options);

    public OcspResponder CreateOcspResponder(ICertificateStatusSource statuses, OcspResponderOptions? options = null) =>
        new(Root.Certificate, OcspCertificate, Copy(OcspKey), statuses, Clock, NullLogger<OcspResponder>.Instance, options);

    /// <summary>The services take ownership of their key; each gets its own copy.</summary>
    public static ECDsa Copy(ECDsa key) => ECDsa.Create(key.ExportParameters(includePrivateParameters: true));

    public void Dispose()
    {
        foreach (var item in owned)
        {
            item.Dispose();
        }

        Root.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
