// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.GlobalConf;
using Grpc.Core;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// A node's trust in other nodes' TLS certificates, in one place. A peer is a node only by the
/// exact authentication certificate the configuration in force lists for it: chaining to a CA the
/// configuration trusts and naming a listed node is not enough. The registry leaves a node out
/// of the configuration once its authentication certificate is revoked, so from the configuration
/// after that on, both sides refuse it:
/// <list type="bullet">
/// <item>as a caller (the peer listener): the handshake takes a client certificate that chains to
/// the configuration's CAs (auditors call there too), and every method that serves nodes asks
/// <see cref="RequireNode"/>, per call, against the current configuration, so a connection opened
/// before the revocation is refused on its next call with a coded error;</item>
/// <item>as a server (a channel to a provider or file recipient): <see cref="IsListedCertificate"/>
/// pins the certificate listed for that node, and a node left out is not called at all.</item>
/// </list>
/// </summary>
public sealed class PeerTrustSource(GlobalConfigurationProvider configuration, TimeProvider time)
{
    private (ulong Version, CertificateTrust Trust)? _cached;

    /// <summary>The CAs of the configuration in force, for the peer listener's handshake; null (refuse) before there is one.</summary>
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

    /// <summary>
    /// The node whose listed authentication certificate is, byte for byte, the TLS peer's; else
    /// <see cref="NodeErrors.UnregisteredNode"/> (PERMISSION_DENIED).
    /// </summary>
    public static NodeEntry RequireNode(ServerCallContext context, GlobalConfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(view);
        return (context.ClientCertificate is { } certificate ? view.FindNodeByAuthCertificate(certificate) : null)
            ?? throw new NodeException(StatusCode.PermissionDenied, NodeErrors.UnregisteredNode,
                "The TLS certificate is not the authentication certificate of any node in the global configuration.");
    }

    /// <summary>The check a channel to <paramref name="node"/> makes of the server's chain-valid certificate: exactly the one listed.</summary>
    public static Func<X509Certificate2, bool> IsListedCertificate(NodeEntry node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var expected = node.AuthCertificateSha256.ToArray();
        return certificate => CryptographicOperations.FixedTimeEquals(SHA256.HashData(certificate.RawData), expected);
    }

    /// <summary>The roots a channel checks a peer's chain against: the configuration's CAs.</summary>
    public CertificateTrust ServerTrust(GlobalConfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return new CertificateTrust(view.TrustedCertificateAuthorities, time);
    }
}
