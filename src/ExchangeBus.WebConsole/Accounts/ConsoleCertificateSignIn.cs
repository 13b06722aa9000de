// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// Login by the client certificate the browser presented on the TLS connection: the component
/// checks the certificate (<see cref="IConsoleCertificateCheck"/>), the store finds the account
/// bound to it, whose roles the person gets. Lockout applies as to a password login
/// (<see cref="ConsoleOptions.MaxFailedLogins"/>): a locked account is refused whatever it
/// presents. A certificate the bus did not issue is a stranger's and is only logged (the
/// registry keeps such refusals out of its audit log, so strangers cannot fill it); every other
/// refusal is audited, under the bound account when there is one, else the certificate's subject,
/// as the management API names a certificate holder it refuses.
/// </summary>
public sealed class ConsoleCertificateSignIn(IConsoleAccountStore store, IConsoleCertificateCheck check, TimeProvider time, ILogger<ConsoleCertificateSignIn> logger)
{
    public async Task<SignInResult> SignInAsync(X509Certificate2? certificate, string correlationId, CancellationToken cancellationToken)
    {
        var status = certificate is null ? ConsoleCertificateStatus.Untrusted : await check.CheckAsync(certificate, cancellationToken).ConfigureAwait(false);
        if (status == ConsoleCertificateStatus.Untrusted)
        {
            ConsoleLog.CertificateRefused(logger, ConsoleErrors.CertificateRefused, correlationId);
            return new SignInResult(null, ConsoleErrors.CertificateRefused);
        }

        var fingerprint = ConsoleAccount.Fingerprint(certificate!);
        var account = store.FindAccountByCertificate(fingerprint);
        var code = status switch
        {
            ConsoleCertificateStatus.Revoked => ConsoleErrors.CertificateRevoked,
            ConsoleCertificateStatus.NotOnRecord => ConsoleErrors.CertificateRefused,
            _ when account is null => ConsoleErrors.CertificateNotBound,
            _ when account.IsLockedAt(time.GetUtcNow()) => ConsoleErrors.LockedOut,
            _ => string.Empty,
        };
        if (code.Length > 0)
        {
            ConsoleLog.CertificateRefused(logger, code, correlationId);
            store.RecordEvent(account is null ? certificate!.Subject : ConsoleAccount.Actor(account.Name), "console.login", false, code,
                new { method = "certificate", certificateSha256 = fingerprint, serial = certificate!.SerialNumber });
            return new SignInResult(null, code);
        }

        store.RecordLogin(account!.Name, null);
        return new SignInResult(account, string.Empty);
    }
}
