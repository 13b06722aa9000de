// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Trust;
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.Node.WebConsole;

/// <summary>
/// The node's check of a certificate offered for a console login: the checks its audit API makes
/// of a caller, with the profile check the registry's console makes. A person's certificate of the
/// bus, an auditor of this node's instance (<see cref="NodeAuditService.AuditorOf"/>, whom the
/// audit API answers) or an administrator of the central authority, validated for that profile
/// (chain, validity, key usage, role) against the CAs of the global configuration in force (the
/// roots the peer listener, where auditors call, trusts) at the injected clock's now; then its
/// CA's OCSP responder (<see cref="PeerCertificateStatus"/>, as the audit API asks it, with its
/// caching and freshness rules: a revocation reaches a session within the configuration's OCSP
/// refresh interval). What the person may do is the bound account's roles, never the certificate's.
/// </summary>
internal sealed class NodeConsoleCertificates(NodeId node, GlobalConfigurationProvider configuration, PeerCertificateStatus status, TimeProvider time)
    : IConsoleCertificateCheck
{
    public async ValueTask<ConsoleCertificateStatus> CheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (configuration.Latest?.TrustedCertificateAuthorities is not { Count: > 0 } roots)
        {
            return ConsoleCertificateStatus.Untrusted;
        }

        // A node's authentication certificate also chains to these CAs with clientAuth: only the
        // profile's role tells a person's certificate from a node's.
        var profile = AuditorIdentity.TryRead(certificate) is null ? CertificateProfile.Administrator : NodeAuditService.AuditorOf(certificate, node)?.Profile;
        using (var validator = new CertificateChainValidator(roots, time))
        {
            if (profile is null || !validator.Validate(certificate, profile.Value).IsValid)
            {
                return ConsoleCertificateStatus.Untrusted;
            }
        }

        return await status.CheckAsync(certificate, cancellationToken).ConfigureAwait(false) switch
        {
            OcspCertificateStatus.Good => ConsoleCertificateStatus.Accepted,
            OcspCertificateStatus.Revoked => ConsoleCertificateStatus.Revoked,

            // Unknown to its CA's responder (not issued through the registry), or no sound, fresh
            // answer to be had: a certificate whose revocation cannot be seen signs nobody in.
            _ => ConsoleCertificateStatus.NotOnRecord,
        };
    }
}
