// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>What a component knows of a client certificate offered for a console login.</summary>
public enum ConsoleCertificateStatus
{
    /// <summary>A person's certificate of the bus (administrator or auditor), within its validity, on record and not revoked.</summary>
    Accepted,

    /// <summary>Not such a certificate of the bus's CA, or outside its validity: a stranger's, refused without an audit entry.</summary>
    Untrusted,

    /// <summary>
    /// Chains to the CA but was not issued through the registry, so it cannot be revoked and is not
    /// accepted; or (a node, which asks the CA's OCSP responder) no fresh answer on it could be had.
    /// </summary>
    NotOnRecord,

    /// <summary>Revoked.</summary>
    Revoked,
}

/// <summary>
/// The component's check of a client certificate offered for a console login, the same check its
/// own API makes of an administrator or auditor certificate: the registry asks its CA's chain and
/// its certificate table, a node the configuration's CAs and their OCSP responders (hence async). Which account the certificate signs in is the store's
/// (<see cref="IConsoleAccountStore.FindAccountByCertificate"/>). A component that registers
/// none accepts no certificate.
/// </summary>
public interface IConsoleCertificateCheck
{
    ValueTask<ConsoleCertificateStatus> CheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken);
}
