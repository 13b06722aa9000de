// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Signing;

/// <summary>
/// Stable codes for a refused envelope signature, single or batch form
/// (docs/design/envelope-signature.md). Tools and tests match on these strings, so they never
/// change once released; a peer is only ever told "invalid signature".
/// </summary>
public static class EnvelopeSignatureErrors
{
    /// <summary>The signature does not verify: a single-form signature over the tbs, or a batch root's signature over its root.</summary>
    public const string Invalid = "EnvelopeSignature.Invalid";

    /// <summary>A batch-form signature whose bytes are not the form: too short, a length that does not add up, a path length byte that is not the one the index and size call for.</summary>
    public const string Malformed = "EnvelopeSignature.Malformed";

    /// <summary>A batch-form signature with a tree size of 0 or above the limit, or a leaf index not below the tree size.</summary>
    public const string InvalidIndex = "EnvelopeSignature.InvalidIndex";

    /// <summary>The tbs and the audit path do not lead to the root the signature carries: another leaf, another path, another position.</summary>
    public const string PathMismatch = "EnvelopeSignature.PathMismatch";
}

/// <summary>The outcome of checking an envelope signature: valid, or refused with one of <see cref="EnvelopeSignatureErrors"/>.</summary>
public readonly record struct EnvelopeSignatureResult
{
    private EnvelopeSignatureResult(string? code) => Code = code;

    public static EnvelopeSignatureResult Valid => default;

    /// <summary>A code from <see cref="EnvelopeSignatureErrors"/>; null when the signature is valid.</summary>
    public string? Code { get; }

    public bool IsValid => Code is null;

    public override string ToString() => Code ?? "Valid";

    internal static EnvelopeSignatureResult Refused(string code) => new(code);
}
