// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>The check of a component that has not said how its certificates are checked: none is accepted.</summary>
internal sealed class NoConsoleCertificates : IConsoleCertificateCheck
{
    public ValueTask<ConsoleCertificateStatus> CheckAsync(X509Certificate2 certificate, CancellationToken cancellationToken) => ValueTask.FromResult(ConsoleCertificateStatus.Untrusted);
}
