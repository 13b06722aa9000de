// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Errors;

namespace ExchangeBus.Registry.Storage;

/// <summary>RFC 5280 CRLReason codes by name (the names openssl prints).</summary>
public static class RevocationReasons
{
    private static readonly string[] Names =
    [
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", string.Empty, "removeFromCRL", "privilegeWithdrawn", "aACompromise",
    ];

    public static int Parse(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return 0;
        }

        var index = Array.FindIndex(Names, n => n.Length > 0 && string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return index >= 0
            ? index
            : throw RegistryException.Invalid(RegistryErrors.InvalidArgument, $"Unknown revocation reason '{name}'; use one of: {string.Join(", ", Names.Where(n => n.Length > 0))}.");
    }

    public static string Name(int code) => code >= 0 && code < Names.Length ? Names[code] : "unspecified";
}
