// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.GlobalConf.Internal;

/// <summary>
/// Checks one identifier part with the identifiers' own grammar, so the configuration accepts
/// exactly the codes the rest of the bus can parse.
/// </summary>
internal static class IdentifierParts
{
    /// <summary>The instance code (part 1 of every identifier).</summary>
    public static IdentifierError? CheckInstance(string value) => Check(value, MemberId.Shape, 0);

    /// <summary>A member class code (part 2 of a member identifier).</summary>
    public static IdentifierError? CheckMemberClass(string value) => Check(value, MemberId.Shape, 1);

    private static IdentifierError? Check(string value, IdentifierShape shape, int index)
    {
        // Throws only for a bad part, which a registry should never sign; the valid path is cheap.
        try
        {
            IdentifierSyntax.RequireValidPart(value, shape, index);
            return null;
        }
        catch (IdentifierFormatException ex)
        {
            return ex.Error;
        }
    }
}
