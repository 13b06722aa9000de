// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// The party that makes a call: either a member (<c>INSTANCE/CLASS/MEMBER</c>) or one of its
/// subsystems (<c>INSTANCE/CLASS/MEMBER/SUBSYSTEM</c>), as in X-Road. A member client and a
/// subsystem client of the same member are different clients.
/// </summary>
public sealed record ClientId : IParsable<ClientId>
{
    internal static readonly IdentifierShape Shape = new(
        "client identifier", "INSTANCE/CLASS/MEMBER[/SUBSYSTEM]", 3,
        ["instance", "member class", "member code", "subsystem code"]);

    private ClientId(MemberId member, SubsystemId? subsystem)
    {
        Member = member;
        Subsystem = subsystem;
    }

    /// <summary>The member, or for a subsystem client the member that owns the subsystem.</summary>
    public MemberId Member { get; }

    /// <summary>The subsystem, or null when the client is the member itself.</summary>
    public SubsystemId? Subsystem { get; }

    /// <summary>True when the client is a subsystem rather than a member.</summary>
    [MemberNotNullWhen(true, nameof(Subsystem))]
    public bool IsSubsystem => Subsystem is not null;

    public static ClientId FromMemberId(MemberId member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new ClientId(member, subsystem: null);
    }

    public static ClientId FromSubsystemId(SubsystemId subsystem)
    {
        ArgumentNullException.ThrowIfNull(subsystem);
        return new ClientId(subsystem.Member, subsystem);
    }

    // Widening conversions: every member and every subsystem is a client. Null stays null so a
    // conversion never throws.
    [return: NotNullIfNotNull(nameof(member))]
    public static implicit operator ClientId?(MemberId? member) => member is null ? null : FromMemberId(member);

    [return: NotNullIfNotNull(nameof(subsystem))]
    public static implicit operator ClientId?(SubsystemId? subsystem) => subsystem is null ? null : FromSubsystemId(subsystem);

    /// <summary>Parses <c>INSTANCE/CLASS/MEMBER</c> or <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM</c>.</summary>
    /// <exception cref="IdentifierFormatException">The text is not a valid client identifier (also for null).</exception>
    public static ClientId Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new IdentifierFormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out ClientId? result) =>
        TryParse(text, out result, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out ClientId? result,
        [NotNullWhen(false)] out IdentifierError? error)
    {
        if (!IdentifierSyntax.TrySplit(text, Shape, out var parts, out error))
        {
            result = null;
            return false;
        }

        result = parts.Length == 4
            ? FromSubsystemId(SubsystemId.FromParts(parts))
            : FromMemberId(MemberId.FromParts(parts));
        return true;
    }

    /// <summary>The canonical form <c>INSTANCE/CLASS/MEMBER[/SUBSYSTEM]</c>.</summary>
    public override string ToString() => Subsystem?.ToString() ?? Member.ToString();

    static ClientId IParsable<ClientId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<ClientId>.TryParse(
        [NotNullWhen(true)] string? s, IFormatProvider? provider, [MaybeNullWhen(false)] out ClientId result) =>
        TryParse(s, out result);
}
