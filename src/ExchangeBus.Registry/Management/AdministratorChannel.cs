// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;

namespace ExchangeBus.Registry.Management;

/// <summary>
/// A channel to the registry authenticated with an administrator's certificate and key files.
/// The registry is recognised by its own TLS certificate, pinned, not by a chain to the root
/// alone: every node's certificate chains to that root and carries serverAuth too.
/// </summary>
public static class AdministratorChannel
{
    public static GrpcChannel Open(string registryAddress, string certificatePath, string keyPath, string trustRootPath, string registryCertificatePath, TimeProvider timeProvider)
    {
        using var certificate = PemFiles.ReadCertificate(certificatePath);
        using var key = PemFiles.ReadPrivateKey(keyPath);
        using var registry = PemFiles.ReadCertificate(registryCertificatePath);
        return BusChannel.Create(new Uri(registryAddress), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([PemFiles.ReadCertificate(trustRootPath)], timeProvider),
            ServerCertificateCheck = new CertificatePin([registry]).Matches,
            ClientCertificate = certificate.CopyWithPrivateKey(key),
        });
    }

    /// <summary>With the file names of a registry key set (<c>xbus pki dev-init</c>, a registry's <c>keys/</c>).</summary>
    public static GrpcChannel Open(string registryAddress, string keysDirectory, TimeProvider timeProvider) => Open(
        registryAddress,
        Path.Combine(keysDirectory, DevelopmentPki.AdministratorCertificateFile),
        Path.Combine(keysDirectory, DevelopmentPki.AdministratorKeyFile),
        Path.Combine(keysDirectory, DevelopmentPki.RootCertificateFile),
        Path.Combine(keysDirectory, DevelopmentPki.RegistryTlsCertificateFile),
        timeProvider);
}
