// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The central authority's keys, read from the data folder's <c>keys/</c> (file names as made by
/// <c>xbus pki dev-init</c>): the CA that issues member and node certificates, the
/// configuration-signing key, the TSA and OCSP keys, the registry's TLS certificate, and the
/// first administrator's certificate (its key is the administrator's, not the registry's).
/// </summary>
public sealed class RegistryKeys : IDisposable
{
    public const string Folder = "keys";

    private RegistryKeys(
        CertificateAuthority authority,
        X509Certificate2 configurationSigning,
        X509Certificate2 timeStamping,
        X509Certificate2 ocsp,
        X509Certificate2 tls,
        X509Certificate2? administrator)
    {
        Authority = authority;
        ConfigurationSigning = configurationSigning;
        _configurationKey = configurationSigning.GetECDsaPrivateKey()!;
        ConfigurationSigner = new GlobalConfigurationSigner(configurationSigning, _configurationKey);
        TimeStamping = timeStamping;
        Ocsp = ocsp;
        Tls = tls;
        Administrator = administrator;
    }

    private readonly ECDsa _configurationKey;

    public CertificateAuthority Authority { get; }

    /// <summary>Signs global configurations with the configuration-signing key.</summary>
    public GlobalConfigurationSigner ConfigurationSigner { get; }

    public X509Certificate2 RootCertificate => Authority.Certificate;

    /// <summary>Certificates below carry their private keys.</summary>
    public X509Certificate2 ConfigurationSigning { get; }

    public X509Certificate2 TimeStamping { get; }

    public X509Certificate2 Ocsp { get; }

    public X509Certificate2 Tls { get; }

    /// <summary>
    /// The administrator certificate of the key set (<c>admin.pem</c>, no key), when there is one:
    /// recorded as issued, so it can be revoked like any administrator certificate.
    /// </summary>
    public X509Certificate2? Administrator { get; }

    public static RegistryKeys Load(string keysDirectory, TimeProvider timeProvider)
    {
        string P(string file) => Path.Combine(keysDirectory, file);
        var authority = CertificateAuthority.Load(P(DevelopmentPki.RootCertificateFile), P(DevelopmentPki.RootKeyFile), timeProvider);
        return new RegistryKeys(
            authority,
            WithKey(P(DevelopmentPki.ConfigurationSigningCertificateFile), P(DevelopmentPki.ConfigurationSigningKeyFile)),
            WithKey(P(DevelopmentPki.TimeStampingCertificateFile), P(DevelopmentPki.TimeStampingKeyFile)),
            WithKey(P(DevelopmentPki.OcspCertificateFile), P(DevelopmentPki.OcspKeyFile)),
            WithKey(P(DevelopmentPki.RegistryTlsCertificateFile), P(DevelopmentPki.RegistryTlsKeyFile)),
            File.Exists(P(DevelopmentPki.AdministratorCertificateFile)) ? PemFiles.ReadCertificate(P(DevelopmentPki.AdministratorCertificateFile)) : null);
    }

    private static X509Certificate2 WithKey(string certificatePath, string keyPath)
    {
        using var certificate = PemFiles.ReadCertificate(certificatePath);
        using ECDsa key = PemFiles.ReadPrivateKey(keyPath);
        return certificate.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        Authority.Dispose();
        _configurationKey.Dispose();
        ConfigurationSigning.Dispose();
        TimeStamping.Dispose();
        Ocsp.Dispose();
        Tls.Dispose();
        Administrator?.Dispose();
    }
}
