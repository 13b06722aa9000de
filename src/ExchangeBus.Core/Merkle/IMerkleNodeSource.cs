// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Merkle;

/// <summary>
/// Read side of a Merkle tree's node storage: the hashes of its complete (perfect) subtrees.
/// The node at <c>(level, index)</c> covers the 2^level leaves from <c>index × 2^level</c>;
/// level 0 holds the leaf hashes. Every node whose leaves are all below
/// <see cref="LeafCount"/> must be readable. Nothing else is ever asked for: the incomplete
/// right edge of a tree is always recomputed from complete nodes.
/// </summary>
public interface IMerkleNodeSource
{
    /// <summary>How many leaves the stored tree has.</summary>
    long LeafCount { get; }

    /// <summary>
    /// The 32-byte hash of one complete subtree. The span need only stay valid until the next
    /// call on this source. A node that should exist and does not is storage corruption: throw.
    /// </summary>
    ReadOnlySpan<byte> GetNode(int level, long index);
}

/// <summary>
/// Write side: where <see cref="MerkleTreeBuilder"/> hands each node the moment its subtree
/// becomes complete. For one level, indices arrive in order 0, 1, 2, … with no gaps.
/// </summary>
public interface IMerkleNodeSink
{
    /// <summary>Stores one node; <paramref name="hash"/> is only valid during the call.</summary>
    void AddNode(int level, long index, ReadOnlySpan<byte> hash);
}
