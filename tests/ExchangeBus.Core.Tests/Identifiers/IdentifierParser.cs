// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.Identifiers;

/// <summary>The six identifier parsers behind one shape, so a test can run against all of them.</summary>
public sealed record IdentifierParser(
    string Name,
    int MinParts,
    int MaxParts,
    Func<string?, object> Parse,
    Func<string?, (bool Ok, object? Result, IdentifierError? Error)> TryParse)
{
    public static readonly IdentifierParser[] All =
    [
        new("MemberId", 3, 3, t => MemberId.Parse(t), t => (MemberId.TryParse(t, out var r, out var e), r, e)),
        new("SubsystemId", 4, 4, t => SubsystemId.Parse(t), t => (SubsystemId.TryParse(t, out var r, out var e), r, e)),
        new("ClientId", 3, 4, t => ClientId.Parse(t), t => (ClientId.TryParse(t, out var r, out var e), r, e)),
        new("ServiceId", 5, 6, t => ServiceId.Parse(t), t => (ServiceId.TryParse(t, out var r, out var e), r, e)),
        new("NodeId", 4, 4, t => NodeId.Parse(t), t => (NodeId.TryParse(t, out var r, out var e), r, e)),
        new("GlobalGroupId", 2, 2, t => GlobalGroupId.Parse(t), t => (GlobalGroupId.TryParse(t, out var r, out var e), r, e)),
    ];

    public override string ToString() => Name;
}
