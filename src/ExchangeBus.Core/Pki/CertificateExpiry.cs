// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// How long a certificate has left, said the same way wherever a person is shown it (the
/// registry's dashboard for its TSA and OCSP responder, a node's keys page): whole days rounded
/// down, so a certificate that ends later today has 0 days left and an expired one fewer.
/// </summary>
public static class CertificateExpiry
{
    /// <summary>Under this many days left, the consoles show the expiry as a warning.</summary>
    public const int WarnDays = 30;

    /// <summary>The certificate's notAfter as a UTC instant (<see cref="X509Certificate2.NotAfter"/> is in local time).</summary>
    public static DateTimeOffset NotAfter(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    /// <summary>Whole days from <paramref name="now"/> to <paramref name="notAfter"/>, rounded down (negative once expired).</summary>
    public static int DaysLeft(DateTimeOffset notAfter, DateTimeOffset now) => (int)Math.Floor((notAfter - now).TotalDays);

    /// <summary>Whether <paramref name="daysLeft"/> is under <see cref="WarnDays"/>.</summary>
    public static bool IsSoon(int daysLeft) => daysLeft < WarnDays;
}
