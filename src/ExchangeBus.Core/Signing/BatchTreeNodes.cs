// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// The nodes of one signing batch's tree, held just long enough to read its root and paths
/// with <see cref="MerkleProofs"/>. A few hundred leaves: plain lists, where the log's
/// in-memory store would allocate a megabyte per level.
/// </summary>
internal sealed class BatchTreeNodes : IMerkleNodeSource, IMerkleNodeSink
{
    private readonly List<List<byte[]>> _levels = [];

    public long LeafCount => _levels.Count == 0 ? 0 : _levels[0].Count;

    public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
    {
        while (_levels.Count <= level)
        {
            _levels.Add([]);
        }

        _levels[level].Add(hash.ToArray());
    }

    public ReadOnlySpan<byte> GetNode(int level, long index) => _levels[level][(int)index];
}
