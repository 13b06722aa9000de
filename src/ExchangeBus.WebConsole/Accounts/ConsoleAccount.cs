// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// One person's console account as stored. <paramref name="CertificateSha256"/> binds the account
/// to one client certificate (an administrator's or auditor's the bus issued), which then signs
/// the person in as this account; null when the account signs in by password only.
/// </summary>
public sealed record ConsoleAccount(
    string Name,
    IReadOnlySet<ConsoleRole> Roles,
    string PasswordHash,
    int FailedLogins,
    DateTimeOffset? LockedUntil,
    string? CertificateSha256 = null)
{
    /// <summary>At most this long; the audit log's actor is <c>console:NAME</c>.</summary>
    public const int MaxNameLength = 64;

    public bool IsLockedAt(DateTimeOffset now) => LockedUntil is { } until && now < until;

    /// <summary>Letters, digits, '.', '_' and '-': a name that reads the same in a log, a URL and a shell.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>How an account names its certificate: SHA-256 of the DER, upper-case hex (as <c>openssl x509 -fingerprint -sha256</c> without colons).</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }

    /// <summary>How the audit log names a person acting through the console.</summary>
    public static string Actor(string name) => "console:" + name;
}
