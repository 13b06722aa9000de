// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Accounts;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// The registry's check of a certificate offered for a console login: the checks its management
/// API makes of an administrator (and its audit API of an auditor) — the profile's chain to this
/// registry's CA at the injected clock's now (validity included), then the registry's own
/// certificate table, which knows every certificate it issued and whether it is revoked (the
/// registry is its own OCSP responder). An auditor certificate counts only for this instance.
/// </summary>
internal sealed class RegistryConsoleCertificates(CertificateChainValidator validator, RegistryStore store) : IConsoleCertificateCheck
{
    public ValueTask<ConsoleCertificateStatus> CheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken) => ValueTask.FromResult(Check(certificate));

    private ConsoleCertificateStatus Check(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var profile = AuditorIdentity.TryRead(certificate) is { } auditor
            ? string.Equals(auditor.Instance, store.Instance, StringComparison.Ordinal) ? auditor.Profile : (CertificateProfile?)null
            : CertificateProfile.Administrator;
        if (profile is null || !validator.Validate(certificate, profile.Value).IsValid)
        {
            return ConsoleCertificateStatus.Untrusted;
        }

        return store.FindCertificateStatus(certificate.SerialNumber) switch
        {
            null => ConsoleCertificateStatus.NotOnRecord,
            { Revoked: true } => ConsoleCertificateStatus.Revoked,
            _ => ConsoleCertificateStatus.Accepted,
        };
    }
}
