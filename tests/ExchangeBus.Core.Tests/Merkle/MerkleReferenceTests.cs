// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Tests.Merkle;

/// <summary>
/// The frontier builder and the node-based proofs against <see cref="NaiveMerkleTree"/> for
/// every tree size 1–130 (every shape of the RFC's recursion up to eight levels, on both sides
/// of 64 and 128) and every leaf or old size.
/// </summary>
public sealed class MerkleReferenceTests
{
    private const int MaxSize = 130;

    private NaiveMerkleTree _reference = null!;
    private InMemoryMerkleNodeStore _store = null!;
    private List<byte[]> _builderRoots = null!;
    private List<(int Level, long Index, byte[] Hash)> _emitted = null!;

    [OneTimeSetUp]
    public void Build()
    {
        _reference = NaiveMerkleTree.WithTestLeaves(MaxSize);
        _store = new InMemoryMerkleNodeStore();
        var recorder = new RecordingSink(_store);
        var builder = new MerkleTreeBuilder();
        _builderRoots = [builder.ComputeRoot()];
        for (var i = 0; i < MaxSize; i++)
        {
            builder.Append(MerkleHash.HashLeaf(NaiveMerkleTree.TestLeaf(i)), recorder);
            _builderRoots.Add(builder.ComputeRoot());
        }

        _emitted = recorder.Nodes;
    }

    [Test]
    public void LeafHash_IsTheReferenceLeafHash()
    {
        var mismatches = Enumerable.Range(0, MaxSize)
            .Where(i => !MerkleHash.HashLeaf(NaiveMerkleTree.TestLeaf(i)).SequenceEqual(_reference.LeafHashAt(i)));
        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public void BuilderRoot_AfterEveryAppend_IsTheReferenceRoot()
    {
        var mismatches = Enumerable.Range(0, MaxSize + 1).Where(n => !_builderRoots[n].SequenceEqual(_reference.Root(n)));
        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public void Builder_EmitsEachCompleteSubtreeOnce_WithItsReferenceHash()
    {
        // n leaves have n − 1 complete interior subtrees when n is a power of two; in general
        // the count is the sum over levels of floor(n / 2^level).
        var expectedCount = Enumerable.Range(0, 8).Sum(level => MaxSize >> level);
        var wrong = _emitted.Where(node => !node.Hash.SequenceEqual(_reference.Node(node.Level, node.Index))).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(_emitted, Has.Count.EqualTo(expectedCount));
            Assert.That(_emitted.Select(node => (node.Level, node.Index)), Is.Unique);
            Assert.That(wrong, Is.Empty);
            Assert.That(_store.NodeCount, Is.EqualTo(expectedCount));
        });
    }

    [Test]
    public void RootFromNodes_ForEverySize_IsTheReferenceRoot()
    {
        var mismatches = Enumerable.Range(0, MaxSize + 1).Where(n => !MerkleProofs.Root(_store, n).SequenceEqual(_reference.Root(n)));
        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public void InclusionProof_ForEveryLeafOfEverySize_IsTheReferencePath_AndVerifies()
    {
        var failures = new List<string>();
        for (var n = 1; n <= MaxSize; n++)
        {
            var root = _reference.Root(n);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleProofs.InclusionProof(_store, m, n);
                if (!SameHashes(proof, _reference.Path(m, n)))
                {
                    failures.Add($"PATH({m}, {n}) differs");
                }

                var result = MerkleVerifier.VerifyInclusion(m, n, _reference.LeafHashAt(m), proof, root);
                if (!result.IsValid)
                {
                    failures.Add($"PATH({m}, {n}) refused: {result}");
                }
            }
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void ConsistencyProof_ForEveryPairOfSizes_IsTheReferenceProof_AndVerifies()
    {
        var failures = new List<string>();
        for (var n = 0; n <= MaxSize; n++)
        {
            for (var m = 0; m <= n; m++)
            {
                var proof = MerkleProofs.ConsistencyProof(_store, m, n);
                if (!SameHashes(proof, _reference.Proof(m, n)))
                {
                    failures.Add($"PROOF({m}, {n}) differs");
                }

                var result = MerkleVerifier.VerifyConsistency(m, n, _reference.Root(m), _reference.Root(n), proof);
                if (!result.IsValid)
                {
                    failures.Add($"PROOF({m}, {n}) refused: {result}");
                }
            }
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void RestoredBuilder_ForEverySize_HasTheReferenceRoot_AndCarriesOnAsTheOriginalDid()
    {
        var failures = new List<string>();
        for (var size = 0; size <= MaxSize; size++)
        {
            var builder = MerkleTreeBuilder.Restore(_store, size);
            if (builder.Size != size || !builder.ComputeRoot().SequenceEqual(_reference.Root(size)))
            {
                failures.Add($"restored at {size}: wrong root");
            }

            var recorder = new RecordingSink(null);
            for (var next = size; next < Math.Min(size + 9, MaxSize); next++)
            {
                builder.Append(_reference.LeafHashAt(next), recorder);
                if (!builder.ComputeRoot().SequenceEqual(_reference.Root(next + 1)))
                {
                    failures.Add($"restored at {size}, appended to {next + 1}: wrong root");
                }
            }

            var wrongNodes = recorder.Nodes.Where(node => !node.Hash.SequenceEqual(_store.GetNode(node.Level, node.Index).ToArray()));
            failures.AddRange(wrongNodes.Select(node => $"restored at {size}: node ({node.Level}, {node.Index}) differs"));
        }

        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Proofs_ReadOnlyALogarithmicNumberOfNodes()
    {
        // The design's promise: at most two nodes read per level (one sibling, one piece of an
        // incomplete right edge), never the leaves under a sibling.
        var counting = new CountingSource(_store);
        var worst = 0L;
        for (var n = 1; n <= MaxSize; n++)
        {
            var levels = 64 - long.LeadingZeroCount(n);
            for (var m = 0; m < n; m++)
            {
                counting.Reads = 0;
                MerkleProofs.InclusionProof(counting, m, n);
                worst = Math.Max(worst, counting.Reads - (2 * levels));
                counting.Reads = 0;
                MerkleProofs.ConsistencyProof(counting, m, n);
                worst = Math.Max(worst, counting.Reads - (2 * levels));
            }

            counting.Reads = 0;
            MerkleProofs.Root(counting, n);
            worst = Math.Max(worst, counting.Reads - levels);
        }

        Assert.That(worst, Is.LessThanOrEqualTo(0));
    }

    private static bool SameHashes(IReadOnlyList<byte[]> actual, IReadOnlyList<byte[]> expected) =>
        actual.Count == expected.Count && actual.Zip(expected).All(pair => pair.First.SequenceEqual(pair.Second));

    private sealed class RecordingSink(IMerkleNodeSink? next) : IMerkleNodeSink
    {
        public List<(int Level, long Index, byte[] Hash)> Nodes { get; } = [];

        public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
        {
            Nodes.Add((level, index, hash.ToArray()));
            next?.AddNode(level, index, hash);
        }
    }

    private sealed class CountingSource(IMerkleNodeSource inner) : IMerkleNodeSource
    {
        public long Reads { get; set; }

        public long LeafCount => inner.LeafCount;

        public ReadOnlySpan<byte> GetNode(int level, long index)
        {
            Reads++;
            return inner.GetNode(level, index);
        }
    }
}
