// SPDX-License-Identifier: Apache-2.0
using Microsoft.AspNetCore.Identity;

namespace ExchangeBus.WebConsole.Accounts;

/// <summary>
/// Password hashes by ASP.NET Core Identity's hasher (PBKDF2-HMAC-SHA512, salted, its current
/// iteration count): a standard scheme, maintained with the framework, rather than our own.
/// </summary>
public static class ConsolePasswords
{
    /// <summary>Shorter passwords are refused when an account is made.</summary>
    public const int MinimumLength = 12;

    /// <summary>Bounds the work one login attempt can cause.</summary>
    public const int MaximumLength = 256;

    private static readonly PasswordHasher<string> Hasher = new();

    public static string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return Hasher.HashPassword(string.Empty, password);
    }

    /// <summary>Whether the password matches; <paramref name="rehash"/> is a new hash when the stored one uses outdated parameters.</summary>
    public static bool Verify(string hash, string password, out string? rehash)
    {
        rehash = null;
        if (string.IsNullOrEmpty(password) || password.Length > MaximumLength)
        {
            return false;
        }

        try
        {
            switch (Hasher.VerifyHashedPassword(string.Empty, hash, password))
            {
                case PasswordVerificationResult.Success:
                    return true;
                case PasswordVerificationResult.SuccessRehashNeeded:
                    rehash = Hash(password);
                    return true;
                default:
                    return false;
            }
        }
        catch (FormatException)
        {
            // A stored value that is not a hash this hasher knows: no password matches it.
            return false;
        }
    }

    /// <summary>The problems with a new password, in English for the command line; empty when acceptable.</summary>
    public static IEnumerable<string> Check(string password)
    {
        if (password.Length < MinimumLength)
        {
            yield return $"A console password needs at least {MinimumLength} characters.";
        }

        if (password.Length > MaximumLength)
        {
            yield return $"A console password has at most {MaximumLength} characters.";
        }
    }
}
