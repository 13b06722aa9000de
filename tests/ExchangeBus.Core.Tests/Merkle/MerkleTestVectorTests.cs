// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;
using static ExchangeBus.Core.Tests.Merkle.MerkleTestVectors;

namespace ExchangeBus.Core.Tests.Merkle;

/// <summary>The library against the published RFC 6962 reference vectors (see <see cref="MerkleTestVectors"/>).</summary>
public sealed class MerkleTestVectorTests
{
    private InMemoryMerkleNodeStore _store = null!;
    private List<byte[]> _rootAfterEachAppend = null!;

    [OneTimeSetUp]
    public void BuildReferenceTree()
    {
        _store = new InMemoryMerkleNodeStore();
        var builder = new MerkleTreeBuilder();
        _rootAfterEachAppend = [builder.ComputeRoot()];
        foreach (var leaf in Leaves)
        {
            builder.Append(MerkleHash.HashLeaf(leaf), _store);
            _rootAfterEachAppend.Add(builder.ComputeRoot());
        }
    }

    [Test]
    public void EmptyRoot_IsSha256OfTheEmptyString()
    {
        Assert.That(Convert.ToHexStringLower(MerkleHash.EmptyRoot), Is.EqualTo(Roots[0]));
    }

    [Test]
    public void LeafHash_OfTheEmptyLeaf_IsTheRootOfSizeOne()
    {
        Assert.That(Convert.ToHexStringLower(MerkleHash.HashLeaf([])), Is.EqualTo(Roots[1]));
    }

    [Test]
    public void Builder_RootAfterEachAppend_MatchesThePublishedRoots()
    {
        Assert.That(_rootAfterEachAppend.Select(Convert.ToHexStringLower), Is.EqualTo(Roots));
    }

    [Test]
    public void RootFromStoredNodes_ForEverySize_MatchesThePublishedRoots()
    {
        var roots = Enumerable.Range(0, Roots.Length).Select(n => Convert.ToHexStringLower(MerkleProofs.Root(_store, n)));
        Assert.That(roots, Is.EqualTo(Roots));
    }

    [TestCaseSource(typeof(MerkleTestVectors), nameof(Inclusion))]
    public void InclusionProof_IsThePublishedOne_AndVerifies((long Index, long Size, string[] Proof) vector)
    {
        var proof = MerkleProofs.InclusionProof(_store, vector.Index, vector.Size);
        var result = MerkleVerifier.VerifyInclusion(vector.Index, vector.Size, MerkleHash.HashLeaf(Leaves[vector.Index]), Hex(vector.Proof), Hex(Roots[vector.Size]));

        Assert.Multiple(() =>
        {
            Assert.That(proof.Select(Convert.ToHexStringLower), Is.EqualTo(vector.Proof));
            Assert.That(result.IsValid, Is.True, result.ToString());
        });
    }

    [TestCaseSource(typeof(MerkleTestVectors), nameof(Consistency))]
    public void ConsistencyProof_IsThePublishedOne_AndVerifies((long OldSize, long NewSize, string[] Proof) vector)
    {
        var proof = MerkleProofs.ConsistencyProof(_store, vector.OldSize, vector.NewSize);
        var result = MerkleVerifier.VerifyConsistency(vector.OldSize, vector.NewSize, Hex(Roots[vector.OldSize]), Hex(Roots[vector.NewSize]), Hex(vector.Proof));

        Assert.Multiple(() =>
        {
            Assert.That(proof.Select(Convert.ToHexStringLower), Is.EqualTo(vector.Proof));
            Assert.That(result.IsValid, Is.True, result.ToString());
        });
    }

    /// <summary>The corruptions transparency-dev/merkle's verifier tests apply to these vectors (sizes, roots, garbage, bits).</summary>
    [TestCaseSource(typeof(MerkleTestVectors), nameof(Inclusion))]
    public void InclusionProof_ReferenceSuiteCorruptions_AreAllRefused((long Index, long Size, string[] Proof) vector)
    {
        var proof = Hex(vector.Proof);
        var root = Hex(Roots[vector.Size]);
        var leaf = MerkleHash.HashLeaf(Leaves[vector.Index]);
        var someHash = Hex("abacaba000000000000000000000000000000000000000000060061e00123456");

        var probes = new List<(string What, long Index, long Size, byte[] Leaf, byte[][] Proof, byte[] Root)>
        {
            ("index - 1", vector.Index - 1, vector.Size, leaf, proof, root),
            ("index + 1", vector.Index + 1, vector.Size, leaf, proof, root),
            ("index ^ 2", vector.Index ^ 2, vector.Size, leaf, proof, root),
            ("size * 2", vector.Index, vector.Size * 2, leaf, proof, root),
            ("size / 2", vector.Index, vector.Size / 2, leaf, proof, root),
            ("wrong leaf", vector.Index, vector.Size, MerkleHash.HashLeaf("WrongLeaf"u8), proof, root),
            ("empty root", vector.Index, vector.Size, leaf, proof, MerkleHash.EmptyRoot.ToArray()),
            ("random root", vector.Index, vector.Size, leaf, proof, someHash),
            ("trailing garbage", vector.Index, vector.Size, leaf, [.. proof, []], root),
            ("trailing root", vector.Index, vector.Size, leaf, [.. proof, root], root),
            ("preceding garbage", vector.Index, vector.Size, leaf, [[], .. proof], root),
            ("preceding root", vector.Index, vector.Size, leaf, [root, .. proof], root),
        };
        if (proof.Length > 0)
        {
            probes.Add(("removed component", vector.Index, vector.Size, leaf, proof[..^1], root));
        }

        if (proof.Length > 1)
        {
            probes.Add(("inserted component", vector.Index, vector.Size, leaf, [proof[0], someHash, .. proof[1..]], root));
        }

        for (var i = 0; i < proof.Length; i++)
        {
            probes.Add(($"proof[{i}] bit 3 flipped", vector.Index, vector.Size, leaf, MerkleTamper.FlipBit(proof, i, 0, 3), root));
        }

        var accepted = probes
            .Where(p => MerkleVerifier.VerifyInclusion(p.Index, p.Size, p.Leaf, p.Proof, p.Root).IsValid)
            .Select(p => p.What);
        Assert.That(accepted, Is.Empty);
    }

    [TestCaseSource(typeof(MerkleTestVectors), nameof(Consistency))]
    public void ConsistencyProof_ReferenceSuiteCorruptions_AreAllRefused((long OldSize, long NewSize, string[] Proof) vector)
    {
        var proof = Hex(vector.Proof);
        if (proof.Length == 0)
        {
            Assert.Pass("The reference suite corrupts only non-empty proofs.");
        }

        var root1 = Hex(Roots[vector.OldSize]);
        var root2 = Hex(Roots[vector.NewSize]);
        var wrongRoot = "WrongRoot"u8.ToArray();
        var probes = new List<(string What, long Size1, long Size2, byte[] Root1, byte[] Root2, byte[][] Proof)>
        {
            ("size1 - 1", vector.OldSize - 1, vector.NewSize, root1, root2, proof),
            ("size1 + 1", vector.OldSize + 1, vector.NewSize, root1, root2, proof),
            ("size1 ^ 2", vector.OldSize ^ 2, vector.NewSize, root1, root2, proof),
            ("size2 * 2", vector.OldSize, vector.NewSize * 2, root1, root2, proof),
            ("size2 / 2", vector.OldSize, vector.NewSize / 2, root1, root2, proof),
            ("wrong root1", vector.OldSize, vector.NewSize, wrongRoot, root2, proof),
            ("wrong root2", vector.OldSize, vector.NewSize, root1, wrongRoot, proof),
            ("swapped roots", vector.OldSize, vector.NewSize, root2, root1, proof),
            ("empty proof", vector.OldSize, vector.NewSize, root1, root2, []),
            ("trailing garbage", vector.OldSize, vector.NewSize, root1, root2, [.. proof, []]),
            ("trailing root1", vector.OldSize, vector.NewSize, root1, root2, [.. proof, root1]),
            ("trailing root2", vector.OldSize, vector.NewSize, root1, root2, [.. proof, root2]),
            ("preceding garbage", vector.OldSize, vector.NewSize, root1, root2, [[], .. proof]),
            ("preceding root1", vector.OldSize, vector.NewSize, root1, root2, [root1, .. proof]),
            ("preceding root2", vector.OldSize, vector.NewSize, root1, root2, [root2, .. proof]),
            ("preceding proof[0]", vector.OldSize, vector.NewSize, root1, root2, [proof[0], .. proof]),
            ("truncated proof", vector.OldSize, vector.NewSize, root1, root2, proof[..^1]),
        };
        for (var i = 0; i < proof.Length; i++)
        {
            probes.Add(($"proof[{i}] bit 4 flipped", vector.OldSize, vector.NewSize, root1, root2, MerkleTamper.FlipBit(proof, i, 0, 4)));
        }

        var accepted = probes
            .Where(p => MerkleVerifier.VerifyConsistency(p.Size1, p.Size2, p.Root1, p.Root2, p.Proof).IsValid)
            .Select(p => p.What);
        Assert.That(accepted, Is.Empty);
    }
}
