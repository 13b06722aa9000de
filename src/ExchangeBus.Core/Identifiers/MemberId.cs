// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// A member (an agency, a legal person) in X-Road form <c>INSTANCE/CLASS/MEMBER</c>, e.g.
/// <c>VN/GOV/000.00.00.G01</c>. Equality is ordinal and case-sensitive, as in X-Road.
/// </summary>
public sealed record MemberId : IParsable<MemberId>
{
    internal static readonly IdentifierShape Shape = new(
        "member identifier", "INSTANCE/CLASS/MEMBER", 3, ["instance", "member class", "member code"]);

    private MemberId(string instance, string memberClass, string memberCode)
    {
        Instance = instance;
        MemberClass = memberClass;
        MemberCode = memberCode;
    }

    /// <summary>The X-Road instance, e.g. <c>VN</c>.</summary>
    public string Instance { get; }

    /// <summary>The member class, e.g. <c>GOV</c>.</summary>
    public string MemberClass { get; }

    /// <summary>The member code, e.g. <c>000.00.00.G01</c>.</summary>
    public string MemberCode { get; }

    /// <summary>Builds a member identifier from its parts.</summary>
    /// <exception cref="IdentifierFormatException">A part is empty, too long or has an illegal character.</exception>
    public static MemberId Create(string instance, string memberClass, string memberCode) => new(
        IdentifierSyntax.RequireValidPart(instance, Shape, 0),
        IdentifierSyntax.RequireValidPart(memberClass, Shape, 1),
        IdentifierSyntax.RequireValidPart(memberCode, Shape, 2));

    /// <summary>Parses <c>INSTANCE/CLASS/MEMBER</c>.</summary>
    /// <exception cref="IdentifierFormatException">The text is not a valid member identifier (also for null).</exception>
    public static MemberId Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new IdentifierFormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out MemberId? result) =>
        TryParse(text, out result, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out MemberId? result,
        [NotNullWhen(false)] out IdentifierError? error)
    {
        if (!IdentifierSyntax.TrySplit(text, Shape, out var parts, out error))
        {
            result = null;
            return false;
        }

        result = FromParts(parts);
        return true;
    }

    /// <summary>The canonical form <c>INSTANCE/CLASS/MEMBER</c>.</summary>
    public override string ToString() => $"{Instance}/{MemberClass}/{MemberCode}";

    // The first three parts of every member-based form; already validated by the caller.
    internal static MemberId FromParts(string[] parts) => new(parts[0], parts[1], parts[2]);

    static MemberId IParsable<MemberId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<MemberId>.TryParse(
        [NotNullWhen(true)] string? s, IFormatProvider? provider, [MaybeNullWhen(false)] out MemberId result) =>
        TryParse(s, out result);
}
