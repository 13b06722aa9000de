// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Merkle;

/// <summary>
/// Nodes kept in memory: for each level one flat run of 32-byte hashes, indexed by position,
/// in 1 MiB chunks (no per-node objects, and growing never copies what is there). About
/// 64 bytes a leaf in all (n leaf hashes plus n − 1 interior nodes): 64 MB for a million
/// leaves. For tests, benchmarks and tools; a node's log keeps its nodes in SQLite.
/// </summary>
public sealed class InMemoryMerkleNodeStore : IMerkleNodeSource, IMerkleNodeSink
{
    private const int ChunkShift = 15;
    private const int HashesPerChunk = 1 << ChunkShift;

    private readonly List<Level> _levels = [];

    /// <summary>How many leaf hashes (level-0 nodes) are stored.</summary>
    public long LeafCount => _levels.Count == 0 ? 0 : _levels[0].Count;

    /// <summary>How many nodes are stored on all levels together.</summary>
    public long NodeCount => _levels.Sum(level => level.Count);

    public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        if (hash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A node hash is {MerkleHash.Size} bytes.", nameof(hash));
        }

        while (_levels.Count <= level)
        {
            _levels.Add(new Level());
        }

        var nodes = _levels[level];
        if (index != nodes.Count)
        {
            throw new InvalidOperationException($"Level {level} holds {nodes.Count} nodes; node {index} cannot come next (nodes are appended in order).");
        }

        nodes.Append(hash);
    }

    public ReadOnlySpan<byte> GetNode(int level, long index)
    {
        if (level < 0 || level >= _levels.Count || index < 0 || index >= _levels[level].Count)
        {
            throw new KeyNotFoundException($"No Merkle node ({level}, {index}) is stored.");
        }

        return _levels[level].Get(index);
    }

    private sealed class Level
    {
        private readonly List<byte[]> _chunks = [];

        public long Count { get; private set; }

        public void Append(ReadOnlySpan<byte> hash)
        {
            var offset = (int)(Count & (HashesPerChunk - 1));
            if (offset == 0)
            {
                _chunks.Add(new byte[HashesPerChunk * MerkleHash.Size]);
            }

            hash.CopyTo(_chunks[^1].AsSpan(offset * MerkleHash.Size, MerkleHash.Size));
            Count++;
        }

        public ReadOnlySpan<byte> Get(long index) =>
            _chunks[(int)(index >> ChunkShift)].AsSpan((int)(index & (HashesPerChunk - 1)) * MerkleHash.Size, MerkleHash.Size);
    }
}
