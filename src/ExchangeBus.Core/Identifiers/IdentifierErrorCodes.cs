// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// Stable codes for malformed identifiers. They travel in error details to peers and callers
/// and are matched by code, so a code is never renamed once published.
/// </summary>
public static class IdentifierErrorCodes
{
    /// <summary>The text is null or empty.</summary>
    public const string Empty = "Identifier.Empty";

    /// <summary>The text is longer than <see cref="IdentifierLimits.MaxLength"/> characters.</summary>
    public const string TooLong = "Identifier.TooLong";

    /// <summary>The text has the wrong number of slash-separated parts for this kind of identifier.</summary>
    public const string WrongPartCount = "Identifier.WrongPartCount";

    /// <summary>A part is empty (two slashes in a row, or a leading or trailing slash).</summary>
    public const string EmptyPart = "Identifier.EmptyPart";

    /// <summary>A part is longer than <see cref="IdentifierLimits.MaxPartLength"/> characters.</summary>
    public const string PartTooLong = "Identifier.PartTooLong";

    /// <summary>A part has a character outside <c>A-Z a-z 0-9 ' ( ) + , - . = ?</c>.</summary>
    public const string IllegalCharacter = "Identifier.IllegalCharacter";
}
