// SPDX-License-Identifier: Apache-2.0
using System.Numerics;

namespace ExchangeBus.Core.Merkle;

/// <summary>
/// Roots, inclusion proofs (RFC 9162 §2.1.3.1) and consistency proofs (§2.1.4.1) for any tree
/// size up to the stored one, read from complete-subtree nodes. Each takes O(log n) node reads:
/// the RFC's recursion is walked top-down; a sibling on the left is always one complete node,
/// and a sibling on the right (an incomplete right edge, at most once per proof, because below
/// it every subtree is complete) is folded from one complete node per set bit of its size.
/// </summary>
public static class MerkleProofs
{
    /// <summary>MTH of the first <paramref name="treeSize"/> leaves.</summary>
    public static byte[] Root(IMerkleNodeSource nodes, long treeSize)
    {
        CheckSize(nodes, treeSize);
        return treeSize == 0 ? MerkleHash.EmptyRoot.ToArray() : RangeHash(nodes, 0, treeSize);
    }

    /// <summary>
    /// The audit path of leaf <paramref name="leafIndex"/> (0-based) in the tree of
    /// <paramref name="treeSize"/> leaves, nearest the leaf first, as RFC 9162 orders it.
    /// </summary>
    public static byte[][] InclusionProof(IMerkleNodeSource nodes, long leafIndex, long treeSize)
    {
        CheckSize(nodes, treeSize);
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, treeSize);

        // Top-down over PATH(m, D[start:start+size]); the RFC lists the path bottom-up.
        var path = new List<byte[]>(64);
        long start = 0, size = treeSize, index = leafIndex;
        while (size > 1)
        {
            var k = LargestPowerOfTwoBelow(size);
            if (index < k)
            {
                path.Add(RangeHash(nodes, start + k, size - k));
                size = k;
            }
            else
            {
                path.Add(CompleteNode(nodes, start, k));
                start += k;
                index -= k;
                size -= k;
            }
        }

        path.Reverse();
        return [.. path];
    }

    /// <summary>
    /// The proof that the tree of <paramref name="newSize"/> leaves extends the tree of
    /// <paramref name="oldSize"/> leaves; empty when the old size is 0 or equals the new one.
    /// </summary>
    public static byte[][] ConsistencyProof(IMerkleNodeSource nodes, long oldSize, long newSize)
    {
        CheckSize(nodes, newSize);
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        if (oldSize == 0 || oldSize == newSize)
        {
            return [];
        }

        // Top-down over SUBPROOF(m, D[start:start+size], b).
        var path = new List<byte[]>(64);
        long start = 0, size = newSize, m = oldSize;
        var oldTreeIsAWholeSubtree = true;
        while (m != size)
        {
            var k = LargestPowerOfTwoBelow(size);
            if (m <= k)
            {
                path.Add(RangeHash(nodes, start + k, size - k));
                size = k;
            }
            else
            {
                path.Add(CompleteNode(nodes, start, k));
                start += k;
                m -= k;
                size -= k;
                oldTreeIsAWholeSubtree = false;
            }
        }

        // SUBPROOF(m, D[m], false) = MTH(D[m]); with b still true the verifier has it already: the old root.
        if (!oldTreeIsAWholeSubtree)
        {
            path.Add(RangeHash(nodes, start, size));
        }

        path.Reverse();
        return [.. path];
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n ≥ 2): the RFC's split point.</summary>
    internal static long LargestPowerOfTwoBelow(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    private static byte[] CompleteNode(IMerkleNodeSource nodes, long start, long size)
    {
        var level = BitOperations.TrailingZeroCount(size);
        var node = nodes.GetNode(level, start >> level);
        CheckNode(node, level, start >> level);
        return node.ToArray();
    }

    /// <summary>
    /// MTH of the <paramref name="size"/> leaves from <paramref name="start"/>, where start is a
    /// multiple of a power of two at least size (true of every subtree in the RFC's recursion).
    /// Such a range is complete subtrees of falling sizes, one per set bit, and MTH splits off
    /// exactly the largest each time, so folding them from the right gives the RFC's hash.
    /// </summary>
    private static byte[] RangeHash(IMerkleNodeSource nodes, long start, long size)
    {
        var hash = new byte[MerkleHash.Size];
        var end = start + size;
        var first = true;
        for (var level = 0; level < 63; level++)
        {
            if (((size >> level) & 1) == 0)
            {
                continue;
            }

            end -= 1L << level;
            var node = nodes.GetNode(level, end >> level);
            CheckNode(node, level, end >> level);
            if (first)
            {
                node.CopyTo(hash);
                first = false;
            }
            else
            {
                MerkleHash.HashChildren(node, hash, hash);
            }
        }

        return hash;
    }

    private static void CheckSize(IMerkleNodeSource nodes, long treeSize)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, nodes.LeafCount);
    }

    private static void CheckNode(ReadOnlySpan<byte> node, int level, long index)
    {
        if (node.Length != MerkleHash.Size)
        {
            throw new InvalidOperationException($"Merkle node ({level}, {index}) is {node.Length} bytes, not {MerkleHash.Size}: the node storage is damaged.");
        }
    }
}
