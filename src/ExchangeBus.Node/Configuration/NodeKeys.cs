// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// The node's two keys and their certificates: the authentication key (TLS between nodes) and
/// its member's signing key (every message). Both stay in the data folder (0600).
/// </summary>
public sealed class NodeKeys : IDisposable
{
    private readonly ECDsa _signingKey;

    private NodeKeys(X509Certificate2 authentication, X509Certificate2 signing, ECDsa signingKey)
    {
        Authentication = authentication;
        Signing = signing;
        _signingKey = signingKey;
        Signer = new EnvelopeSigner(signingKey);
        SigningCertificateDer = signing.RawData;
    }

    /// <summary>The TLS certificate with its private key.</summary>
    public X509Certificate2 Authentication { get; }

    /// <summary>The signing certificate (public part; the key is held by <see cref="Signer"/>).</summary>
    public X509Certificate2 Signing { get; }

    public byte[] SigningCertificateDer { get; }

    public EnvelopeSigner Signer { get; }

    public static bool CertificatesPresent(NodePaths paths) =>
        File.Exists(paths.AuthenticationCertificate) && File.Exists(paths.SigningCertificate);

    public static NodeKeys Load(NodePaths paths)
    {
        if (!CertificatesPresent(paths))
        {
            throw new NodeConfigurationException(NodeErrors.NotRegistered,
                $"{paths.Keys} has no certificates yet: the registration is not approved (run `xbus node register --data {paths.DataDirectory} --wait`).");
        }

        using var authKey = PemFiles.ReadPrivateKey(paths.AuthenticationKey);
        using var authCertificate = PemFiles.ReadCertificate(paths.AuthenticationCertificate);
        var signingKey = PemFiles.ReadPrivateKey(paths.SigningKey);
        var signing = PemFiles.ReadCertificate(paths.SigningCertificate);
        if (!signing.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(signingKey.ExportSubjectPublicKeyInfo()))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{paths.SigningCertificate} does not match {paths.SigningKey}.");
        }

        return new NodeKeys(authCertificate.CopyWithPrivateKey(authKey), signing, signingKey);
    }

    public void Dispose()
    {
        Authentication.Dispose();
        Signing.Dispose();
        _signingKey.Dispose();
    }
}
