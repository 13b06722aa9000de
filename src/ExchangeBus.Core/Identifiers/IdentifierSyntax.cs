// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// The one place that knows the identifier grammar, so every identifier type rejects the same
/// inputs with the same codes. Checks run cheapest first and the whole-text length cap comes
/// before any scan, so the cost of a hostile input is bounded by <see cref="IdentifierLimits.MaxLength"/>.
/// </summary>
internal static class IdentifierSyntax
{
    private const char Separator = '/';

    // How much of a bad input a message may quote. Long enough to recognise the identifier,
    // short enough that a hostile caller cannot flood our logs through error text.
    private const int MaxQuotedChars = 64;

    private static readonly SearchValues<char> Allowed = SearchValues.Create(IdentifierLimits.AllowedCharacters);

    public static bool TrySplit(
        string? text,
        IdentifierShape shape,
        [NotNullWhen(true)] out string[]? parts,
        [NotNullWhen(false)] out IdentifierError? error)
    {
        parts = null;
        if (string.IsNullOrEmpty(text))
        {
            error = new IdentifierError(
                IdentifierErrorCodes.Empty,
                $"The {shape.Kind} is empty; expected {shape.Template}.",
                Part: null, PartIndex: null, CharIndex: null);
            return false;
        }

        if (text.Length > IdentifierLimits.MaxLength)
        {
            error = new IdentifierError(
                IdentifierErrorCodes.TooLong,
                Invariant($"The {shape.Kind} is {text.Length} characters long; at most {IdentifierLimits.MaxLength} are allowed."),
                Part: null, PartIndex: null, CharIndex: null);
            return false;
        }

        var count = text.AsSpan().Count(Separator) + 1;
        if (count < shape.RequiredParts || count > shape.MaxParts)
        {
            error = new IdentifierError(
                IdentifierErrorCodes.WrongPartCount,
                Invariant($"The {shape.Kind} \"{Quote(text)}\" has {count} parts separated by '/'; expected {shape.Template}."),
                Part: null, PartIndex: null, CharIndex: null);
            return false;
        }

        var result = new string[count];
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            var length = text.AsSpan(start).IndexOf(Separator);
            if (length < 0)
            {
                length = text.Length - start;
            }

            error = CheckPart(text.AsSpan(start, length), shape, i);
            if (error is not null)
            {
                return false;
            }

            result[i] = text.Substring(start, length);
            start += length + 1;
        }

        parts = result;
        error = null;
        return true;
    }

    /// <summary>Validates one part given on its own, for the <c>Create</c> factories.</summary>
    public static string RequireValidPart(
        string value,
        IdentifierShape shape,
        int index,
        [CallerArgumentExpression(nameof(value))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(value, paramName);
        var error = CheckPart(value, shape, index);
        return error is null ? value : throw new IdentifierFormatException(error);
    }

    private static IdentifierError? CheckPart(ReadOnlySpan<char> part, IdentifierShape shape, int index)
    {
        // Every call goes through here for every part, so the happy path allocates nothing.
        if (part.IsEmpty)
        {
            return new IdentifierError(
                IdentifierErrorCodes.EmptyPart,
                $"{Where(shape, index)} is empty.",
                shape.PartNames[index], index, CharIndex: null);
        }

        if (part.Length > IdentifierLimits.MaxPartLength)
        {
            return new IdentifierError(
                IdentifierErrorCodes.PartTooLong,
                Invariant($"{Where(shape, index)} is {part.Length} characters long; at most {IdentifierLimits.MaxPartLength} are allowed."),
                shape.PartNames[index], index, CharIndex: null);
        }

        var bad = part.IndexOfAnyExcept(Allowed);
        if (bad >= 0)
        {
            return new IdentifierError(
                IdentifierErrorCodes.IllegalCharacter,
                Invariant($"{Where(shape, index)} \"{Quote(part)}\" has the character {Describe(part[bad])} at index {bad}; only A-Z a-z 0-9 ' ( ) + , - . = ? are allowed."),
                shape.PartNames[index], index, bad);
        }

        return null;
    }

    private static string Where(IdentifierShape shape, int index) =>
        Invariant($"The {shape.PartNames[index]} (part {index + 1} of {shape.Template})");

    /// <summary>
    /// A bounded, escaped excerpt of untrusted text for a message: printable ASCII stays as is,
    /// everything else (controls, spaces, quotes, backslashes, non-ASCII) becomes \uXXXX, so a
    /// message never carries raw control characters or look-alike letters into a log line.
    /// </summary>
    internal static string Quote(ReadOnlySpan<char> text)
    {
        var shown = text.Length > MaxQuotedChars ? text[..MaxQuotedChars] : text;
        var builder = new StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            if (c is > ' ' and < '\u007f' and not '"' and not '\\')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        if (shown.Length < text.Length)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... ({text.Length} characters)");
        }

        return builder.ToString();
    }

    private static string Describe(char c) =>
        c is > ' ' and < '\u007f'
            ? Invariant($"'{c}' (U+{(int)c:X4})")
            : Invariant($"U+{(int)c:X4}");

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
