// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// A global group defined by the central authority, in the form <c>INSTANCE/GROUP</c>, e.g.
/// <c>VN/ministries</c>. Used in access rules to grant a service to many clients at once.
/// </summary>
public sealed record GlobalGroupId : IParsable<GlobalGroupId>
{
    internal static readonly IdentifierShape Shape = new(
        "global group identifier", "INSTANCE/GROUP", 2, ["instance", "group code"]);

    private GlobalGroupId(string instance, string groupCode)
    {
        Instance = instance;
        GroupCode = groupCode;
    }

    /// <summary>The X-Road instance that defines the group.</summary>
    public string Instance { get; }

    /// <summary>The group code, e.g. <c>ministries</c>.</summary>
    public string GroupCode { get; }

    /// <summary>Builds a global group identifier from its parts.</summary>
    /// <exception cref="IdentifierFormatException">A part is empty, too long or has an illegal character.</exception>
    public static GlobalGroupId Create(string instance, string groupCode) => new(
        IdentifierSyntax.RequireValidPart(instance, Shape, 0),
        IdentifierSyntax.RequireValidPart(groupCode, Shape, 1));

    /// <summary>Parses <c>INSTANCE/GROUP</c>.</summary>
    /// <exception cref="IdentifierFormatException">The text is not a valid global group identifier (also for null).</exception>
    public static GlobalGroupId Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new IdentifierFormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out GlobalGroupId? result) =>
        TryParse(text, out result, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out GlobalGroupId? result,
        [NotNullWhen(false)] out IdentifierError? error)
    {
        if (!IdentifierSyntax.TrySplit(text, Shape, out var parts, out error))
        {
            result = null;
            return false;
        }

        result = new GlobalGroupId(parts[0], parts[1]);
        return true;
    }

    /// <summary>The canonical form <c>INSTANCE/GROUP</c>.</summary>
    public override string ToString() => $"{Instance}/{GroupCode}";

    static GlobalGroupId IParsable<GlobalGroupId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<GlobalGroupId>.TryParse(
        [NotNullWhen(true)] string? s, IFormatProvider? provider, [MaybeNullWhen(false)] out GlobalGroupId result) =>
        TryParse(s, out result);
}
