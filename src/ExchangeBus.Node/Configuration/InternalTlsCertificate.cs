// SPDX-License-Identifier: Apache-2.0
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
    public static X509Certificate2 LoadOrCreate(NodePaths paths, NodeId node, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(node);
        SelfSignedTlsCertificate.EnsureCreated(paths.InternalTlsCertificate, paths.InternalTlsKey, "ExchangeBus local interface", node.ToString(), time);
        return SelfSignedTlsCertificate.Load(paths.InternalTlsCertificate, paths.InternalTlsKey)
            ?? throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{paths.InternalTlsCertificate} does not match {paths.InternalTlsKey}.");
    }

    /// <summary>SHA-256 of the DER certificate, upper-case hex: what systems and node.json pin.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }
}
