// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// Building the message log's Merkle tree: one million 32-byte leaves (a record hash each)
/// through the frontier builder — the node's cost per record, and what rebuilding the tree
/// costs an auditor's full verification — beside the baseline of one plain SHA-256 over each
/// of the same inputs. Times are for all one million leaves.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*Merkle*' --job short</c>.</remarks>
[MemoryDiagnoser]
[MedianColumn]
public class MerkleAppendBenchmarks
{
    private const int Leaves = 1_000_000;

    private byte[] _inputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inputs = new byte[Leaves * MerkleHash.Size];
        new Random(5).NextBytes(_inputs);
    }

    [Benchmark(Baseline = true, Description = "SHA-256 of each input (baseline)")]
    public byte Sha256Only()
    {
        Span<byte> hash = stackalloc byte[MerkleHash.Size];
        byte sum = 0;
        for (var i = 0; i < Leaves; i++)
        {
            SHA256.HashData(_inputs.AsSpan(i * MerkleHash.Size, MerkleHash.Size), hash);
            sum ^= hash[0];
        }

        return sum;
    }

    [Benchmark(Description = "Leaf hash + append, nodes handed to a sink that drops them")]
    public long AppendNodesDropped() => Append(DroppingSink.Instance).Size;

    [Benchmark(Description = "Leaf hash + append, nodes kept in the in-memory store")]
    public long AppendNodesStored()
    {
        var store = new InMemoryMerkleNodeStore();
        Append(store);
        return store.NodeCount;
    }

    private MerkleTreeBuilder Append(IMerkleNodeSink sink)
    {
        var builder = new MerkleTreeBuilder();
        Span<byte> leaf = stackalloc byte[MerkleHash.Size];
        for (var i = 0; i < Leaves; i++)
        {
            MerkleHash.HashLeaf(_inputs.AsSpan(i * MerkleHash.Size, MerkleHash.Size), leaf);
            builder.Append(leaf, sink);
        }

        return builder;
    }

    private sealed class DroppingSink : IMerkleNodeSink
    {
        public static readonly DroppingSink Instance = new();

        public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
        {
        }
    }
}

/// <summary>
/// Proofs on a 10,000,000-leaf tree (not a power of two, so every proof has an incomplete right
/// edge to recompute), its ~20 million nodes held in the in-memory store (~640 MB; setup takes
/// a while). Indices and old sizes rotate over 1,024 random values so no one path stays in cache.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*Merkle*' --job short</c>.</remarks>
[MemoryDiagnoser]
[MedianColumn]
public class MerkleProofBenchmarks
{
    private const long TreeSize = 10_000_000;
    private const int Samples = 1024;

    private InMemoryMerkleNodeStore _store = null!;
    private MerkleTreeHead _head = null!;
    private long[] _indices = null!;
    private byte[][] _leafHashes = null!;
    private byte[][][] _inclusionProofs = null!;
    private long[] _oldSizes = null!;
    private byte[][] _oldRoots = null!;
    private byte[][][] _consistencyProofs = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _store = new InMemoryMerkleNodeStore();
        var builder = new MerkleTreeBuilder();
        Span<byte> input = stackalloc byte[8];
        Span<byte> leaf = stackalloc byte[MerkleHash.Size];
        for (long i = 0; i < TreeSize; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(input, i);
            MerkleHash.HashLeaf(input, leaf);
            builder.Append(leaf, _store);
        }

        _head = builder.Head();
        var random = new Random(5);
        _indices = [.. Enumerable.Range(0, Samples).Select(_ => random.NextInt64(TreeSize))];
        _leafHashes = [.. _indices.Select(i => _store.GetNode(0, i).ToArray())];
        _inclusionProofs = [.. _indices.Select(i => MerkleProofs.InclusionProof(_store, i, TreeSize))];
        _oldSizes = [.. Enumerable.Range(0, Samples).Select(_ => 1 + random.NextInt64(TreeSize - 1))];
        _oldRoots = [.. _oldSizes.Select(size => MerkleProofs.Root(_store, size))];
        _consistencyProofs = [.. _oldSizes.Select(size => MerkleProofs.ConsistencyProof(_store, size, TreeSize))];
    }

    [Benchmark(Description = "Inclusion proof, generate (10M leaves)")]
    public byte[][] InclusionProof() => MerkleProofs.InclusionProof(_store, _indices[Next()], TreeSize);

    [Benchmark(Description = "Inclusion proof, verify (10M leaves)")]
    public bool VerifyInclusion()
    {
        var i = Next();
        return MerkleVerifier.VerifyInclusion(_indices[i], _leafHashes[i], _inclusionProofs[i], _head).IsValid;
    }

    [Benchmark(Description = "Consistency proof, generate (old size random, new 10M)")]
    public byte[][] ConsistencyProof() => MerkleProofs.ConsistencyProof(_store, _oldSizes[Next()], TreeSize);

    [Benchmark(Description = "Consistency proof, verify (old size random, new 10M)")]
    public bool VerifyConsistency()
    {
        var i = Next();
        return MerkleVerifier.VerifyConsistency(_oldSizes[i], TreeSize, _oldRoots[i], _head.RootHash.Span, _consistencyProofs[i]).IsValid;
    }

    [Benchmark(Description = "Root of an older size from stored nodes")]
    public byte[] RootOfOlderSize() => MerkleProofs.Root(_store, _oldSizes[Next()]);

    private int Next() => _next = (_next + 1) & (Samples - 1);
}
