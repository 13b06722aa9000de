// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Merkle;

/// <summary>
/// Stable codes for a refused Merkle proof. Auditors' tools, the CLI and audit events match on
/// these strings, so they never change once released.
/// </summary>
public static class MerkleErrors
{
    /// <summary>A size or index that no proof can be for: negative, a leaf index not below the tree size, an old size above the new one.</summary>
    public const string InvalidSize = "Merkle.InvalidSize";

    /// <summary>A root, leaf hash or proof element that is not 32 bytes.</summary>
    public const string InvalidHashLength = "Merkle.InvalidHashLength";

    /// <summary>The proof has more or fewer hashes than the sizes call for.</summary>
    public const string WrongProofLength = "Merkle.WrongProofLength";

    /// <summary>The leaf and its path do not hash to the root: the leaf, the path, the index or the root is not what was claimed.</summary>
    public const string InclusionMismatch = "Merkle.InclusionMismatch";

    /// <summary>The proof does not lead back to the old root: the old tree is not a prefix of the new one, or the proof or old head is wrong.</summary>
    public const string OldRootMismatch = "Merkle.OldRootMismatch";

    /// <summary>
    /// The proof leads back to the old root but not to the new one: the new tree is not an
    /// extension of the old one, or the proof or a head is wrong. When the old size is a power
    /// of two the old root is where the path starts (RFC 9162 §2.1.4.2 step 2), so a wrong old
    /// root shows here too.
    /// </summary>
    public const string NewRootMismatch = "Merkle.NewRootMismatch";
}

/// <summary>The outcome of a proof verification: valid, or refused with one of <see cref="MerkleErrors"/>.</summary>
public readonly record struct MerkleProofResult
{
    private MerkleProofResult(string? code) => Code = code;

    public static MerkleProofResult Valid => default;

    /// <summary>A code from <see cref="MerkleErrors"/>; null when the proof is valid.</summary>
    public string? Code { get; }

    public bool IsValid => Code is null;

    public override string ToString() => Code ?? "Valid";

    internal static MerkleProofResult Refused(string code) => new(code);
}
