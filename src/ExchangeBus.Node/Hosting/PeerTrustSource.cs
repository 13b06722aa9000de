// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.GlobalConf;

namespace ExchangeBus.Node.Hosting;

/// <summary>Trust for peers' TLS certificates: the CAs of the configuration in force, rebuilt when it changes.</summary>
internal sealed class PeerTrustSource(GlobalConfigurationProvider configuration, TimeProvider time)
{
    private (ulong Version, CertificateTrust Trust)? _cached;

    public CertificateTrust? Current()
    {
        var view = configuration.Latest;
        if (view is null || view.TrustedCertificateAuthorities.Count == 0)
        {
            return null;
        }

        var cached = _cached;
        if (cached is { } c && c.Version == view.Version)
        {
            return c.Trust;
        }

        var trust = new CertificateTrust(view.TrustedCertificateAuthorities, time);
        _cached = (view.Version, trust);
        return trust;
    }
}
