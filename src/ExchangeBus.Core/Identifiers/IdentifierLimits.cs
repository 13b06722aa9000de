// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// Size bounds for identifiers. X-Road stores each identifier part in a 255-character column,
/// so no real identifier is longer; the whole-string cap lets a parser reject a hostile
/// megabyte before it looks at a single part.
/// </summary>
public static class IdentifierLimits
{
    /// <summary>Most characters in one part (instance, member code, service code, ...).</summary>
    public const int MaxPartLength = 255;

    /// <summary>Most characters in a whole identifier, slashes included.</summary>
    public const int MaxLength = 1024;

    /// <summary>The characters a part may contain (X-Road): <c>A-Z a-z 0-9 ' ( ) + , - . = ?</c>.</summary>
    public const string AllowedCharacters =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+,-.=?";
}
