// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// Why a text is not a valid identifier. <see cref="Message"/> is safe to log or return to a
/// caller: it never holds more than a short, escaped excerpt of the input.
/// </summary>
/// <param name="Code">One of <see cref="IdentifierErrorCodes"/>.</param>
/// <param name="Message">A human-readable explanation.</param>
/// <param name="Part">The name of the bad part ("instance", "member class", "member code",
/// "subsystem code", "service code", "version", "node code", "group code"), or null when the
/// problem is with the whole text.</param>
/// <param name="PartIndex">Zero-based position of the bad part among the slash-separated parts,
/// or null when the problem is with the whole text.</param>
/// <param name="CharIndex">Zero-based index of the offending character within the part, for
/// <see cref="IdentifierErrorCodes.IllegalCharacter"/>; otherwise null.</param>
public sealed record IdentifierError(string Code, string Message, string? Part, int? PartIndex, int? CharIndex)
{
    public override string ToString() => $"{Code}: {Message}";
}
