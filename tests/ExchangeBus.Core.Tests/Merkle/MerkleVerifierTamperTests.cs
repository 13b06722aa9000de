// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Tests.Merkle;

/// <summary>
/// Every kind of tampering, on every proof of every tree up to <see cref="MaxSize"/> leaves:
/// each must be refused, with the code that says why, and nothing may throw.
/// </summary>
public sealed class MerkleVerifierTamperTests
{
    private const int MaxSize = 40;

    private NaiveMerkleTree _reference = null!;
    private InMemoryMerkleNodeStore _store = null!;

    [OneTimeSetUp]
    public void Build()
    {
        _reference = NaiveMerkleTree.WithTestLeaves(MaxSize * 2);
        _store = new InMemoryMerkleNodeStore();
        var builder = new MerkleTreeBuilder();
        for (var i = 0; i < _reference.Count; i++)
        {
            builder.Append(_reference.LeafHashAt(i), _store);
        }
    }

    [Test]
    public void Inclusion_EveryFlippedBitInEveryElement_IsRefusedAsAMismatch()
    {
        var accepted = new List<string>();
        ForEveryInclusionProof((m, n, proof, root) =>
        {
            for (var element = 0; element < proof.Length; element++)
            {
                foreach (var (byteIndex, bit) in new[] { (0, 0), (13, 5), (31, 7) })
                {
                    var result = MerkleVerifier.VerifyInclusion(m, n, _reference.LeafHashAt(m), MerkleTamper.FlipBit(proof, element, byteIndex, bit), root);
                    if (result.Code != MerkleErrors.InclusionMismatch)
                    {
                        accepted.Add($"PATH({m}, {n}) element {element}: {result}");
                    }
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Inclusion_EveryOtherLeafIndex_IsRefused()
    {
        var accepted = new List<string>();
        ForEveryInclusionProof((m, n, proof, root) =>
        {
            for (var other = -1; other <= n; other++)
            {
                if (other != m && MerkleVerifier.VerifyInclusion(other, n, _reference.LeafHashAt(m), proof, root).IsValid)
                {
                    accepted.Add($"PATH({m}, {n}) as index {other}");
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Inclusion_AgainstTheHeadOfAnyOtherSize_IsRefused()
    {
        var accepted = new List<string>();
        ForEveryInclusionProof((m, n, proof, _) =>
        {
            for (var other = m + 1; other <= n * 2; other++)
            {
                if (other != n && MerkleVerifier.VerifyInclusion(m, other, _reference.LeafHashAt(m), proof, _reference.Root(other)).IsValid)
                {
                    accepted.Add($"PATH({m}, {n}) against head {other}");
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Inclusion_WithTheRightRootButASizeOfAnotherShape_IsRefusedForItsLength()
    {
        var accepted = new List<string>();
        ForEveryInclusionProof((m, n, proof, root) =>
        {
            for (var other = m + 1; other <= n * 2; other++)
            {
                if (_reference.Path(m, other).Count == proof.Length)
                {
                    continue; // See Inclusion_SizeOfTheSameShape_… below: the head binds the size.
                }

                var result = MerkleVerifier.VerifyInclusion(m, other, _reference.LeafHashAt(m), proof, root);
                if (result.Code != MerkleErrors.WrongProofLength)
                {
                    accepted.Add($"PATH({m}, {n}) as size {other}: {result}");
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Inclusion_SizeOfTheSameShape_WithTheOriginalRoot_IsAccepted_SoTheSizeMustComeFromTheHead()
    {
        // Leaf 0's path in 8 leaves combines the same way as in 7 leaves: the RFC's algorithm
        // accepts it. Harmless, because a root is only ever trusted together with its size in
        // a signed tree head (MerkleVerifier's remarks); this pins the behaviour down.
        var proof = MerkleProofs.InclusionProof(_store, 0, 8);
        var result = MerkleVerifier.VerifyInclusion(0, 7, _reference.LeafHashAt(0), proof, _reference.Root(8));
        Assert.That(result.IsValid, Is.True);
    }

    [Test]
    public void Inclusion_TruncatedOrExtendedProofs_AreRefusedForTheirLength()
    {
        var accepted = new List<string>();
        ForEveryInclusionProof((m, n, proof, root) =>
        {
            var leaf = _reference.LeafHashAt(m);
            var variants = new List<(string What, byte[][] Proof)>
            {
                ("root appended", [.. proof, root]),
                ("leaf prepended", [leaf, .. proof]),
                ("zeros appended", [.. proof, new byte[32]]),
            };
            if (proof.Length > 0)
            {
                variants.Add(("last removed", proof[..^1]));
                variants.Add(("first removed", proof[1..]));
                variants.Add(("first repeated", [proof[0], .. proof]));
            }

            foreach (var (what, variant) in variants)
            {
                var result = MerkleVerifier.VerifyInclusion(m, n, leaf, variant, root);
                if (result.Code != MerkleErrors.WrongProofLength)
                {
                    accepted.Add($"PATH({m}, {n}) {what}: {result}");
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Inclusion_WrongLeafOrRoot_IsRefusedAsAMismatch()
    {
        var accepted = new List<string>();
        ForEveryInclusionProof((m, n, proof, root) =>
        {
            var leaf = _reference.LeafHashAt(m);
            var otherLeaf = _reference.LeafHashAt((m + 1) % _reference.Count);
            if (MerkleVerifier.VerifyInclusion(m, n, otherLeaf, proof, root).Code != MerkleErrors.InclusionMismatch
                || MerkleVerifier.VerifyInclusion(m, n, MerkleTamper.FlipBit(leaf, 31, 0), proof, root).Code != MerkleErrors.InclusionMismatch
                || MerkleVerifier.VerifyInclusion(m, n, leaf, proof, MerkleTamper.FlipBit(root, 0, 0)).Code != MerkleErrors.InclusionMismatch
                || MerkleVerifier.VerifyInclusion(m, n, leaf, proof, MerkleHash.EmptyRoot).Code != MerkleErrors.InclusionMismatch)
            {
                accepted.Add($"PATH({m}, {n})");
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [TestCase(0, 0)]
    [TestCase(1, 1)]
    [TestCase(5, 3)]
    [TestCase(-1, 3)]
    [TestCase(0, -1)]
    [TestCase(long.MaxValue, 3)]
    [TestCase(long.MinValue, long.MinValue)]
    public void Inclusion_IndexOutsideTheTree_IsInvalidSize(long index, long size)
    {
        var result = MerkleVerifier.VerifyInclusion(index, size, _reference.LeafHashAt(0), [], _reference.Root(1));
        Assert.That(result.Code, Is.EqualTo(MerkleErrors.InvalidSize));
    }

    [Test]
    public void Inclusion_HashesOfTheWrongLength_AreRefusedNotThrown()
    {
        var proof = MerkleProofs.InclusionProof(_store, 3, 11);
        var leaf = _reference.LeafHashAt(3);
        var root = _reference.Root(11);
        byte[][] shortElement = [.. proof[..^1], proof[^1][..31]];
        byte[][] nullElement = [.. proof[..^1], null!];

        Assert.Multiple(() =>
        {
            Assert.That(MerkleVerifier.VerifyInclusion(3, 11, leaf, shortElement, root).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyInclusion(3, 11, leaf, nullElement, root).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyInclusion(3, 11, leaf[..31], proof, root).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyInclusion(3, 11, leaf, proof, [.. root, 0]).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyInclusion(3, 11, leaf, proof, []).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyInclusion(3, 11, leaf, proof, root).IsValid, Is.True);
        });
    }

    [Test]
    public void Inclusion_AHugeProof_IsRefusedForItsLength()
    {
        var proof = Enumerable.Repeat(new byte[32], 10_000).ToArray();
        var result = MerkleVerifier.VerifyInclusion(0, long.MaxValue, _reference.LeafHashAt(0), proof, _reference.Root(1));
        Assert.That(result.Code, Is.EqualTo(MerkleErrors.WrongProofLength));
    }

    [Test]
    public void Consistency_EveryFlippedBitInEveryElement_IsRefusedAsARootMismatch()
    {
        var accepted = new List<string>();
        ForEveryConsistencyProof((m, n, proof) =>
        {
            for (var element = 0; element < proof.Length; element++)
            {
                foreach (var (byteIndex, bit) in new[] { (0, 4), (31, 0) })
                {
                    var result = MerkleVerifier.VerifyConsistency(m, n, _reference.Root(m), _reference.Root(n), MerkleTamper.FlipBit(proof, element, byteIndex, bit));
                    if (result.Code is not (MerkleErrors.OldRootMismatch or MerkleErrors.NewRootMismatch))
                    {
                        accepted.Add($"PROOF({m}, {n}) element {element}: {result}");
                    }
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Consistency_AgainstTheHeadsOfAnyOtherSizes_IsRefused()
    {
        var accepted = new List<string>();
        ForEveryConsistencyProof((m, n, proof) =>
        {
            for (var otherOld = 0; otherOld <= n; otherOld++)
            {
                if (otherOld != m && MerkleVerifier.VerifyConsistency(otherOld, n, _reference.Root(otherOld), _reference.Root(n), proof).IsValid)
                {
                    accepted.Add($"PROOF({m}, {n}) as old size {otherOld}");
                }
            }

            for (var otherNew = m; otherNew <= n * 2; otherNew++)
            {
                if (otherNew != n && MerkleVerifier.VerifyConsistency(m, otherNew, _reference.Root(m), _reference.Root(otherNew), proof).IsValid)
                {
                    accepted.Add($"PROOF({m}, {n}) as new size {otherNew}");
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Consistency_WrongOrSwappedRoots_AreRefused()
    {
        var accepted = new List<string>();
        ForEveryConsistencyProof((m, n, proof) =>
        {
            var oldRoot = _reference.Root(m);
            var newRoot = _reference.Root(n);
            if (MerkleVerifier.VerifyConsistency(m, n, newRoot, oldRoot, proof).IsValid
                || MerkleVerifier.VerifyConsistency(m, n, MerkleTamper.FlipBit(oldRoot, 7, 2), newRoot, proof).Code != ExpectedForWrongOldRoot(m)
                || MerkleVerifier.VerifyConsistency(m, n, oldRoot, MerkleTamper.FlipBit(newRoot, 7, 2), proof).Code != MerkleErrors.NewRootMismatch
                || MerkleVerifier.VerifyConsistency(m, n, oldRoot, _reference.Root(n - 1), proof).IsValid)
            {
                accepted.Add($"PROOF({m}, {n})");
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [Test]
    public void Consistency_TruncatedOrExtendedProofs_AreRefused()
    {
        var accepted = new List<string>();
        ForEveryConsistencyProof((m, n, proof) =>
        {
            var oldRoot = _reference.Root(m);
            var newRoot = _reference.Root(n);
            var variants = new List<(string What, byte[][] Proof)>
            {
                ("empty", []),
                ("last removed", proof[..^1]),
                ("first removed", proof[1..]),
                ("old root prepended", [oldRoot, .. proof]),
                ("new root appended", [.. proof, newRoot]),
                ("first repeated", [proof[0], .. proof]),
                ("zeros appended", [.. proof, new byte[32]]),
            };
            foreach (var (what, variant) in variants)
            {
                if (MerkleVerifier.VerifyConsistency(m, n, oldRoot, newRoot, variant).IsValid)
                {
                    accepted.Add($"PROOF({m}, {n}) {what}");
                }
            }
        });
        Assert.That(accepted, Is.Empty);
    }

    [TestCase(3, 2)]
    [TestCase(-1, 2)]
    [TestCase(2, -1)]
    [TestCase(long.MaxValue, 1)]
    public void Consistency_OldSizeAboveTheNewOrNegative_IsInvalidSize(long oldSize, long newSize)
    {
        var result = MerkleVerifier.VerifyConsistency(oldSize, newSize, _reference.Root(2), _reference.Root(2), []);
        Assert.That(result.Code, Is.EqualTo(MerkleErrors.InvalidSize));
    }

    [Test]
    public void Consistency_EqualSizes_NeedsEqualRootsAndNoPath()
    {
        var root = _reference.Root(5);
        Assert.Multiple(() =>
        {
            Assert.That(MerkleVerifier.VerifyConsistency(5, 5, root, root, []).IsValid, Is.True);
            Assert.That(MerkleVerifier.VerifyConsistency(5, 5, root, _reference.Root(4), []).Code, Is.EqualTo(MerkleErrors.NewRootMismatch));
            Assert.That(MerkleVerifier.VerifyConsistency(5, 5, root, root, [root]).Code, Is.EqualTo(MerkleErrors.WrongProofLength));
        });
    }

    [Test]
    public void Consistency_FromTheEmptyTree_NeedsTheEmptyRootAndNoPath()
    {
        var empty = MerkleHash.EmptyRoot.ToArray();
        var root = _reference.Root(7);
        Assert.Multiple(() =>
        {
            Assert.That(MerkleVerifier.VerifyConsistency(0, 7, empty, root, []).IsValid, Is.True);
            Assert.That(MerkleVerifier.VerifyConsistency(0, 0, empty, empty, []).IsValid, Is.True);
            Assert.That(MerkleVerifier.VerifyConsistency(0, 7, root, root, []).Code, Is.EqualTo(MerkleErrors.OldRootMismatch));
            Assert.That(MerkleVerifier.VerifyConsistency(0, 7, empty, root, [root]).Code, Is.EqualTo(MerkleErrors.WrongProofLength));
        });
    }

    [Test]
    public void Consistency_HashesOfTheWrongLength_AreRefusedNotThrown()
    {
        var proof = MerkleProofs.ConsistencyProof(_store, 3, 11);
        var oldRoot = _reference.Root(3);
        var newRoot = _reference.Root(11);
        byte[][] longElement = [[.. proof[0], 0], .. proof[1..]];
        byte[][] nullElement = [null!, .. proof[1..]];

        Assert.Multiple(() =>
        {
            Assert.That(MerkleVerifier.VerifyConsistency(3, 11, oldRoot, newRoot, longElement).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyConsistency(3, 11, oldRoot, newRoot, nullElement).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyConsistency(3, 11, oldRoot[..16], newRoot, proof).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyConsistency(3, 11, oldRoot, [], proof).Code, Is.EqualTo(MerkleErrors.InvalidHashLength));
            Assert.That(MerkleVerifier.VerifyConsistency(3, 11, oldRoot, newRoot, proof).IsValid, Is.True);
        });
    }

    [Test]
    public void VerifyAgainstTreeHeads_UsesTheirSizesAndRoots()
    {
        var oldHead = new MerkleTreeHead(6, _reference.Root(6));
        var newHead = new MerkleTreeHead(13, _reference.Root(13));
        var consistency = MerkleProofs.ConsistencyProof(_store, 6, 13);
        var inclusion = MerkleProofs.InclusionProof(_store, 9, 13);

        Assert.Multiple(() =>
        {
            Assert.That(MerkleVerifier.VerifyConsistency(oldHead, newHead, consistency).IsValid, Is.True);
            Assert.That(MerkleVerifier.VerifyConsistency(newHead, oldHead, consistency).Code, Is.EqualTo(MerkleErrors.InvalidSize));
            Assert.That(MerkleVerifier.VerifyInclusion(9, _reference.LeafHashAt(9), inclusion, newHead).IsValid, Is.True);
            Assert.That(MerkleVerifier.VerifyInclusion(9, _reference.LeafHashAt(9), inclusion, oldHead).Code, Is.EqualTo(MerkleErrors.InvalidSize));
        });
    }

    /// <summary>
    /// When the old size is a power of two the old root is the seed of both computations (RFC
    /// 9162 §2.1.4.2 step 2), so a wrong one is caught at the new root.
    /// </summary>
    private static string ExpectedForWrongOldRoot(int oldSize) =>
        (oldSize & (oldSize - 1)) == 0 ? MerkleErrors.NewRootMismatch : MerkleErrors.OldRootMismatch;

    private void ForEveryInclusionProof(Action<int, int, byte[][], byte[]> check)
    {
        for (var n = 1; n <= MaxSize; n++)
        {
            var root = _reference.Root(n);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleProofs.InclusionProof(_store, m, n);
                Assert.That(MerkleVerifier.VerifyInclusion(m, n, _reference.LeafHashAt(m), proof, root).IsValid, Is.True, $"PATH({m}, {n}) untampered");
                check(m, n, proof, root);
            }
        }
    }

    /// <summary>Every pair 0 &lt; m &lt; n: the proofs that have a path to tamper with.</summary>
    private void ForEveryConsistencyProof(Action<int, int, byte[][]> check)
    {
        for (var n = 2; n <= MaxSize; n++)
        {
            for (var m = 1; m < n; m++)
            {
                var proof = MerkleProofs.ConsistencyProof(_store, m, n);
                Assert.That(MerkleVerifier.VerifyConsistency(m, n, _reference.Root(m), _reference.Root(n), proof).IsValid, Is.True, $"PROOF({m}, {n}) untampered");
                check(m, n, proof);
            }
        }
    }
}
