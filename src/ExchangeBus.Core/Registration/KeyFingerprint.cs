// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;

namespace ExchangeBus.Core.Registration;

/// <summary>
/// The fingerprint by which a node's operator and the central authority agree, out of band,
/// which registration request is the node's: hex SHA-256 of the authentication key's
/// SubjectPublicKeyInfo. The node prints it at <c>xbus node init</c>; the registry lists it with
/// each pending request and takes it with the approval (X-Road's administrator likewise checks
/// the authentication certificate's hash with the security server's operator).
/// </summary>
public static class KeyFingerprint
{
    public static string Of(ReadOnlySpan<byte> subjectPublicKeyInfo) => Convert.ToHexString(SHA256.HashData(subjectPublicKeyInfo));

    public static string Of(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Of(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>As typed or read out: colons, spaces and case do not matter. Null if it is not 64 hex digits.</summary>
    public static string? Normalise(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var digits = new string([.. text.Where(c => c is not (':' or ' ' or '-'))]).ToUpperInvariant();
        return digits.Length == 64 && digits.All(Uri.IsHexDigit) ? digits : null;
    }
}
