// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;

namespace ExchangeBus.Core.Merkle;

/// <summary>
/// Checks inclusion (RFC 9162 §2.1.3.2) and consistency (§2.1.4.2) proofs, step by step as the
/// RFC writes them, for proofs from anyone: bad sizes, short or long proofs and hashes of the
/// wrong length are refused with a code, never thrown.
/// </summary>
/// <remarks>
/// A proof binds a leaf (or an old head) to a root, not to a tree size on its own: the RFC's
/// algorithm can accept the same path for two sizes whose paths have the same shape. That is
/// harmless because the size and root always travel together in a signed, time-stamped
/// <see cref="MerkleTreeHead"/>; verify against a head, never against a size from elsewhere.
/// </remarks>
public static class MerkleVerifier
{
    /// <summary>Does <paramref name="leafHash"/> sit at <paramref name="leafIndex"/> in the tree whose head is (<paramref name="treeSize"/>, <paramref name="rootHash"/>)?</summary>
    public static MerkleProofResult VerifyInclusion(
        long leafIndex, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> rootHash)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (leafIndex < 0 || treeSize < 0 || leafIndex >= treeSize)
        {
            return MerkleProofResult.Refused(MerkleErrors.InvalidSize);
        }

        if (leafHash.Length != MerkleHash.Size || rootHash.Length != MerkleHash.Size || !AllHashesSized(proof))
        {
            return MerkleProofResult.Refused(MerkleErrors.InvalidHashLength);
        }

        // No tree of at most long.MaxValue leaves has a longer path (each step halves sn).
        const int MaxPath = 63;
        if (proof.Count > MaxPath)
        {
            return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
        }

        Span<byte> packed = stackalloc byte[MaxPath * MerkleHash.Size];
        for (var i = 0; i < proof.Count; i++)
        {
            proof[i].CopyTo(packed[(i * MerkleHash.Size)..]);
        }

        return VerifyPackedInclusion(leafIndex, treeSize, leafHash, packed[..(proof.Count * MerkleHash.Size)], rootHash);
    }

    /// <summary>
    /// <see cref="VerifyInclusion(long, long, ReadOnlySpan{byte}, IReadOnlyList{byte[]}, ReadOnlySpan{byte})"/>
    /// with the proof's hashes back to back in one span (as a batch signature carries them), so
    /// a check allocates nothing.
    /// </summary>
    public static MerkleProofResult VerifyPackedInclusion(
        long leafIndex, long treeSize, ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> proofHashes, ReadOnlySpan<byte> rootHash)
    {
        if (leafIndex < 0 || treeSize < 0 || leafIndex >= treeSize)
        {
            return MerkleProofResult.Refused(MerkleErrors.InvalidSize);
        }

        if (leafHash.Length != MerkleHash.Size || rootHash.Length != MerkleHash.Size || proofHashes.Length % MerkleHash.Size != 0)
        {
            return MerkleProofResult.Refused(MerkleErrors.InvalidHashLength);
        }

        // §2.1.3.2 steps 2–5.
        long fn = leafIndex, sn = treeSize - 1;
        Span<byte> r = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(r);
        for (var at = 0; at < proofHashes.Length; at += MerkleHash.Size)
        {
            var p = proofHashes.Slice(at, MerkleHash.Size);
            if (sn == 0)
            {
                return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
            }
            InclusionStep(ref fn, ref sn, p, r);
        }

        if (sn != 0)
        {
            return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
        }

        return CryptographicOperations.FixedTimeEquals(r, rootHash)
            ? MerkleProofResult.Valid
            : MerkleProofResult.Refused(MerkleErrors.InclusionMismatch);
    }

    /// <summary>
    /// One step of §2.1.3.2's walk (steps 5.2–5.3): folds the next proof hash into
    /// <paramref name="hash"/> and moves (fn, sn) up. For a caller that walks a path itself; the
    /// caller refuses the proof first when sn is 0.
    /// </summary>
    public static void InclusionStep(ref long fn, ref long sn, ReadOnlySpan<byte> proofHash, Span<byte> hash)
    {
        if ((fn & 1) == 1 || fn == sn)
        {
            MerkleHash.HashChildren(proofHash, hash, hash);
            while ((fn & 1) == 0 && fn != 0)
            {
                fn >>= 1;
                sn >>= 1;
            }
        }
        else
        {
            MerkleHash.HashChildren(hash, proofHash, hash);
        }

        fn >>= 1;
        sn >>= 1;
    }

    /// <summary>Is the tree with head (<paramref name="newSize"/>, <paramref name="newRoot"/>) an append-only extension of the one with head (<paramref name="oldSize"/>, <paramref name="oldRoot"/>)?</summary>
    public static MerkleProofResult VerifyConsistency(
        long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (oldSize < 0 || newSize < 0 || oldSize > newSize)
        {
            return MerkleProofResult.Refused(MerkleErrors.InvalidSize);
        }

        if (oldRoot.Length != MerkleHash.Size || newRoot.Length != MerkleHash.Size || !AllHashesSized(proof))
        {
            return MerkleProofResult.Refused(MerkleErrors.InvalidHashLength);
        }

        // The RFC's algorithm is for 0 < first < second; the two ends need no path at all.
        if (oldSize == newSize || oldSize == 0)
        {
            if (proof.Count != 0)
            {
                return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
            }

            if (oldSize == 0)
            {
                // Every tree extends the empty one, whose root is fixed.
                return CryptographicOperations.FixedTimeEquals(oldRoot, MerkleHash.EmptyRoot)
                    ? MerkleProofResult.Valid
                    : MerkleProofResult.Refused(MerkleErrors.OldRootMismatch);
            }

            return CryptographicOperations.FixedTimeEquals(oldRoot, newRoot)
                ? MerkleProofResult.Valid
                : MerkleProofResult.Refused(MerkleErrors.NewRootMismatch);
        }

        // §2.1.4.2 step 1.
        if (proof.Count == 0)
        {
            return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
        }

        // Step 2: when the old tree is a complete subtree its root heads the path (not sent).
        var oldIsPowerOfTwo = (oldSize & (oldSize - 1)) == 0;
        var next = 0;

        // Steps 3–4.
        long fn = oldSize - 1, sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        // Step 5.
        Span<byte> fr = stackalloc byte[MerkleHash.Size];
        Span<byte> sr = stackalloc byte[MerkleHash.Size];
        var seed = oldIsPowerOfTwo ? oldRoot : proof[next++];
        seed.CopyTo(fr);
        seed.CopyTo(sr);

        // Step 6.
        for (; next < proof.Count; next++)
        {
            var c = proof[next];
            if (sn == 0)
            {
                return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.HashChildren(c, fr, fr);
                MerkleHash.HashChildren(c, sr, sr);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                MerkleHash.HashChildren(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // Step 7.
        if (sn != 0)
        {
            return MerkleProofResult.Refused(MerkleErrors.WrongProofLength);
        }

        if (!CryptographicOperations.FixedTimeEquals(fr, oldRoot))
        {
            return MerkleProofResult.Refused(MerkleErrors.OldRootMismatch);
        }

        return CryptographicOperations.FixedTimeEquals(sr, newRoot)
            ? MerkleProofResult.Valid
            : MerkleProofResult.Refused(MerkleErrors.NewRootMismatch);
    }

    /// <summary>Verifies an inclusion proof against a tree head.</summary>
    public static MerkleProofResult VerifyInclusion(long leafIndex, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, MerkleTreeHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return VerifyInclusion(leafIndex, head.TreeSize, leafHash, proof, head.RootHash.Span);
    }

    /// <summary>Verifies a consistency proof between two tree heads.</summary>
    public static MerkleProofResult VerifyConsistency(MerkleTreeHead oldHead, MerkleTreeHead newHead, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(oldHead);
        ArgumentNullException.ThrowIfNull(newHead);
        return VerifyConsistency(oldHead.TreeSize, newHead.TreeSize, oldHead.RootHash.Span, newHead.RootHash.Span, proof);
    }

    private static bool AllHashesSized(IReadOnlyList<byte[]> proof)
    {
        foreach (var hash in proof)
        {
            if (hash is null || hash.Length != MerkleHash.Size)
            {
                return false;
            }
        }

        return true;
    }
}
