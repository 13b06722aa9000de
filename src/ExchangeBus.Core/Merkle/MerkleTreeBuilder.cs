// SPDX-License-Identifier: Apache-2.0
using System.Numerics;

namespace ExchangeBus.Core.Merkle;

/// <summary>
/// Appends leaf hashes to a Merkle tree keeping only its frontier: one complete-subtree hash
/// per set bit of the size (a "compact range" of the whole tree), so at most 63 hashes
/// however long the log grows. Each append reports the nodes it completes — the leaf at
/// level 0 and every subtree the leaf closes — to an <see cref="IMerkleNodeSink"/>; about two
/// hashes per leaf in all (n leaves make n − 1 interior nodes).
/// </summary>
/// <remarks>Not thread-safe: it belongs to the log's single writer.</remarks>
public sealed class MerkleTreeBuilder
{
    private const int MaxLevels = 63;

    // _frontier[level] is the complete subtree of 2^level leaves ending the covered prefix, for each set bit of _size.
    private readonly byte[] _frontier = new byte[MaxLevels * MerkleHash.Size];
    private long _size;

    /// <summary>How many leaves have been appended.</summary>
    public long Size => _size;

    /// <summary>
    /// A builder that carries on a stored tree of <paramref name="treeSize"/> leaves, reading
    /// its frontier (one node per set bit of the size, O(log n) reads) from storage.
    /// </summary>
    public static MerkleTreeBuilder Restore(IMerkleNodeSource nodes, long treeSize)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, nodes.LeafCount);

        var builder = new MerkleTreeBuilder { _size = treeSize };
        for (var level = 0; level < MaxLevels; level++)
        {
            if (((treeSize >> level) & 1) == 1)
            {
                // The subtree for bit `level` ends where the smaller ones begin.
                var node = nodes.GetNode(level, (treeSize >> level) - 1);
                CheckHash(node);
                node.CopyTo(builder.Slot(level));
            }
        }

        return builder;
    }

    /// <summary>
    /// Appends one leaf hash (<see cref="MerkleHash.HashLeaf(ReadOnlySpan{byte})"/> of the leaf)
    /// and hands <paramref name="completed"/> the leaf and every subtree it completes, lowest
    /// level first.
    /// </summary>
    public void Append(ReadOnlySpan<byte> leafHash, IMerkleNodeSink completed)
    {
        ArgumentNullException.ThrowIfNull(completed);
        CheckHash(leafHash);
        if (_size == long.MaxValue)
        {
            throw new InvalidOperationException("The tree is full.");
        }

        Span<byte> current = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(current);
        completed.AddNode(0, _size, current);

        // Adding 1 to the size carries through its low run of set bits; each carry merges the
        // frontier's subtree at that level with the new one into a complete subtree a level up.
        var level = 0;
        while (((_size >> level) & 1) == 1)
        {
            MerkleHash.HashChildren(Slot(level), current, current);
            level++;
            completed.AddNode(level, _size >> level, current);
        }

        current.CopyTo(Slot(level));
        _size++;
    }

    /// <summary>The root (RFC 9162 MTH) of the tree as it is now.</summary>
    public byte[] ComputeRoot()
    {
        var root = new byte[MerkleHash.Size];
        WriteRoot(root);
        return root;
    }

    /// <summary>The tree head (size and root) as it is now.</summary>
    public MerkleTreeHead Head() => new(_size, ComputeRoot());

    /// <summary>Writes the current root into <paramref name="destination"/> (32 bytes).</summary>
    public void WriteRoot(Span<byte> destination)
    {
        if (destination.Length < MerkleHash.Size)
        {
            throw new ArgumentException($"The destination must hold {MerkleHash.Size} bytes.", nameof(destination));
        }

        if (_size == 0)
        {
            MerkleHash.EmptyRoot.CopyTo(destination);
            return;
        }

        // The smallest subtree is the rightmost; fold leftwards, each larger subtree on the left.
        var level = BitOperations.TrailingZeroCount(_size);
        Slot(level).CopyTo(destination);
        for (level++; level < MaxLevels; level++)
        {
            if (((_size >> level) & 1) == 1)
            {
                MerkleHash.HashChildren(Slot(level), destination[..MerkleHash.Size], destination);
            }
        }
    }

    private Span<byte> Slot(int level) => _frontier.AsSpan(level * MerkleHash.Size, MerkleHash.Size);

    private static void CheckHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A Merkle tree hash must be {MerkleHash.Size} bytes, not {hash.Length}.");
        }
    }
}
