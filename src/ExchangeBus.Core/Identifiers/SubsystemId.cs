// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// A subsystem (one information system of a member) in X-Road form
/// <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM</c>, e.g. <c>VN/GOV/000.00.00.G01/dossier</c>.
/// Equality is ordinal and case-sensitive, as in X-Road.
/// </summary>
public sealed record SubsystemId : IParsable<SubsystemId>
{
    internal static readonly IdentifierShape Shape = new(
        "subsystem identifier", "INSTANCE/CLASS/MEMBER/SUBSYSTEM", 4,
        ["instance", "member class", "member code", "subsystem code"]);

    private SubsystemId(MemberId member, string subsystemCode)
    {
        Member = member;
        SubsystemCode = subsystemCode;
    }

    /// <summary>The member that owns this subsystem.</summary>
    public MemberId Member { get; }

    /// <summary>The subsystem code, e.g. <c>dossier</c>.</summary>
    public string SubsystemCode { get; }

    /// <summary>Builds a subsystem identifier from its member and code.</summary>
    /// <exception cref="IdentifierFormatException">The code is empty, too long or has an illegal character.</exception>
    public static SubsystemId Create(MemberId member, string subsystemCode)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new SubsystemId(member, IdentifierSyntax.RequireValidPart(subsystemCode, Shape, 3));
    }

    /// <summary>Parses <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM</c>.</summary>
    /// <exception cref="IdentifierFormatException">The text is not a valid subsystem identifier (also for null).</exception>
    public static SubsystemId Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new IdentifierFormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out SubsystemId? result) =>
        TryParse(text, out result, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out SubsystemId? result,
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

    /// <summary>The canonical form <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM</c>.</summary>
    public override string ToString() => $"{Member}/{SubsystemCode}";

    // Parts are already validated by the caller; shared with ClientId and ServiceId.
    internal static SubsystemId FromParts(string[] parts) => new(MemberId.FromParts(parts), parts[3]);

    static SubsystemId IParsable<SubsystemId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<SubsystemId>.TryParse(
        [NotNullWhen(true)] string? s, IFormatProvider? provider, [MaybeNullWhen(false)] out SubsystemId result) =>
        TryParse(s, out result);
}
