// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// Thrown by the identifier <c>Parse</c> and <c>Create</c> methods. It derives from
/// <see cref="FormatException"/> so code that already handles bad input keeps working, and
/// carries a stable <see cref="Code"/> so nobody has to match on message text.
/// </summary>
public sealed class IdentifierFormatException : FormatException
{
    public IdentifierFormatException(IdentifierError error)
        : base((error ?? throw new ArgumentNullException(nameof(error))).Message)
    {
        Error = error;
    }

    /// <summary>The full description of the problem.</summary>
    public IdentifierError Error { get; }

    /// <summary>One of <see cref="IdentifierErrorCodes"/>.</summary>
    public string Code => Error.Code;

    /// <summary>The name of the bad part, or null when the problem is with the whole text.</summary>
    public string? Part => Error.Part;

    /// <summary>Zero-based position of the bad part, or null when the problem is with the whole text.</summary>
    public int? PartIndex => Error.PartIndex;
}
