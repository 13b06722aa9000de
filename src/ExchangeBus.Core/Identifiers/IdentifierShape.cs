// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Identifiers;

/// <summary>One identifier form: what it is called in messages and what its parts are.</summary>
/// <param name="Kind">"member identifier", "service identifier", ...</param>
/// <param name="Template">The slash form shown to people, e.g. INSTANCE/CLASS/MEMBER[/SUBSYSTEM].</param>
/// <param name="RequiredParts">How many leading parts must be present; the rest are optional.</param>
/// <param name="PartNames">Names of all parts, required first.</param>
internal sealed record IdentifierShape(string Kind, string Template, int RequiredParts, string[] PartNames)
{
    public int MaxParts => PartNames.Length;
}
