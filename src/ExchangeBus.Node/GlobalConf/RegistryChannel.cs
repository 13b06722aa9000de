// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using Grpc.Net.Client;

namespace ExchangeBus.Node.GlobalConf;

/// <summary>
/// The one way a node reaches its registry (configuration polls, registration, tree heads): the
/// server's certificate must chain to the anchor's roots and be the registry's own TLS
/// certificate the anchor pins. A node's authentication certificate chains to the same root,
/// carries serverAuth and names whatever address its node registered, so the chain alone would
/// let a node pose as the registry. An anchor without the pin is refused here, saying what to do.
/// </summary>
public static class RegistryChannel
{
    /// <exception cref="ConfigurationAnchorException"><see cref="GlobalConfErrors.AnchorRegistryCertificateMissing"/> for an anchor written before the pin.</exception>
    public static GrpcChannel Create(ConfigurationAnchor anchor, TimeProvider timeProvider, X509Certificate2? clientCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        return Create(anchor, anchor.RegistryAddress, timeProvider, clientCertificate);
    }

    /// <summary>
    /// A channel to one of the registry's instances at <paramref name="address"/> (one the anchor or
    /// a verified configuration names), held to the anchor's pin like the anchor's own address.
    /// </summary>
    /// <exception cref="ConfigurationAnchorException"><see cref="GlobalConfErrors.AnchorRegistryCertificateMissing"/> for an anchor written before the pin.</exception>
    public static GrpcChannel Create(ConfigurationAnchor anchor, string address, TimeProvider timeProvider, X509Certificate2? clientCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        anchor.EnsureRegistryPinned();
        return BusChannel.Create(new Uri(address), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust(anchor.RegistryTlsTrustRoots, timeProvider),
            ServerCertificateCheck = new CertificatePin(anchor.RegistryTlsCertificates).Matches,
            ClientCertificate = clientCertificate,
        });
    }
}
