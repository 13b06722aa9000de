// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.Configuration;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The node's certificates as its data folder holds them: the authentication and signing
/// certificates the registry issued, the local TLS certificate its systems pin, and the console's
/// own. Read-only: re-keying is built neither here nor in the <c>xbus node</c> commands yet.
/// </summary>
public sealed class KeysModel(NodePaths paths, TimeProvider time) : PageModel
{
    public IReadOnlyList<CertificateFacts> Certificates { get; private set; } = [];

    public void OnGet()
    {
        var now = time.GetUtcNow();
        Certificates =
        [
            CertificateFacts.Read("authentication", paths.AuthenticationCertificate, now),
            CertificateFacts.Read("signing", paths.SigningCertificate, now),
            CertificateFacts.Read("local-tls", paths.InternalTlsCertificate, now),
            CertificateFacts.Read("console", paths.ConsoleTlsCertificate, now),
        ];
    }
}

/// <summary>What the keys page shows of one certificate; <see cref="Present"/> false when its file is not there (yet).</summary>
public sealed record CertificateFacts(
    string Name, bool Present, string Subject, string Issuer, string Serial, DateTimeOffset NotBefore, DateTimeOffset NotAfter, int DaysLeft, string Sha256)
{
    public static CertificateFacts Read(string name, string path, DateTimeOffset now)
    {
        if (!File.Exists(path))
        {
            return new CertificateFacts(name, false, string.Empty, string.Empty, string.Empty, default, default, 0, string.Empty);
        }

        using var certificate = PemFiles.ReadCertificate(path);
        var notAfter = CertificateExpiry.NotAfter(certificate);
        return new CertificateFacts(
            name, true, certificate.Subject, certificate.Issuer, certificate.SerialNumber,
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero), notAfter,
            CertificateExpiry.DaysLeft(notAfter, now), InternalTlsCertificate.Fingerprint(certificate));
    }

    public string DaysLeftText => DaysLeft.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether the expiry is shown as a warning (<see cref="CertificateExpiry.WarnDays"/>).</summary>
    public bool ExpiresSoon => CertificateExpiry.IsSoon(DaysLeft);
}
