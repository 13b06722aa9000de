// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// A node (security server) in the form <c>INSTANCE/CLASS/MEMBER/NODE</c>: the member that owns
/// it and a node code unique among that member's nodes. X-Road calls this a SERVER identifier.
/// </summary>
/// <remarks>
/// The text has the same shape as a <see cref="SubsystemId"/>; which one it is comes from
/// where it appears, never from the text.
/// </remarks>
public sealed record NodeId : IParsable<NodeId>
{
    internal static readonly IdentifierShape Shape = new(
        "node identifier", "INSTANCE/CLASS/MEMBER/NODE", 4,
        ["instance", "member class", "member code", "node code"]);

    private NodeId(MemberId owner, string nodeCode)
    {
        Owner = owner;
        NodeCode = nodeCode;
    }

    /// <summary>The member that owns and runs the node.</summary>
    public MemberId Owner { get; }

    /// <summary>The node code, e.g. <c>node1</c>.</summary>
    public string NodeCode { get; }

    /// <summary>Builds a node identifier from its owner and code.</summary>
    /// <exception cref="IdentifierFormatException">The code is empty, too long or has an illegal character.</exception>
    public static NodeId Create(MemberId owner, string nodeCode)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return new NodeId(owner, IdentifierSyntax.RequireValidPart(nodeCode, Shape, 3));
    }

    /// <summary>Parses <c>INSTANCE/CLASS/MEMBER/NODE</c>.</summary>
    /// <exception cref="IdentifierFormatException">The text is not a valid node identifier (also for null).</exception>
    public static NodeId Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new IdentifierFormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out NodeId? result) =>
        TryParse(text, out result, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out NodeId? result,
        [NotNullWhen(false)] out IdentifierError? error)
    {
        if (!IdentifierSyntax.TrySplit(text, Shape, out var parts, out error))
        {
            result = null;
            return false;
        }

        result = new NodeId(MemberId.FromParts(parts), parts[3]);
        return true;
    }

    /// <summary>The canonical form <c>INSTANCE/CLASS/MEMBER/NODE</c>.</summary>
    public override string ToString() => $"{Owner}/{NodeCode}";

    static NodeId IParsable<NodeId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<NodeId>.TryParse(
        [NotNullWhen(true)] string? s, IFormatProvider? provider, [MaybeNullWhen(false)] out NodeId result) =>
        TryParse(s, out result);
}
