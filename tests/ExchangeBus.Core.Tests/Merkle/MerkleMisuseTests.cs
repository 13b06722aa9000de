// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Tests.Merkle;

/// <summary>Programming errors on the node's side (not an auditor's bad input) throw at once.</summary>
public sealed class MerkleMisuseTests
{
    [Test]
    public void Append_ALeafHashThatIsNot32Bytes_Throws()
    {
        var builder = new MerkleTreeBuilder();
        var store = new InMemoryMerkleNodeStore();
        Assert.Multiple(() =>
        {
            Assert.That(() => builder.Append(new byte[31], store), Throws.ArgumentException);
            Assert.That(() => builder.Append(new byte[33], store), Throws.ArgumentException);
            Assert.That(builder.Size, Is.Zero);
            Assert.That(store.NodeCount, Is.Zero);
        });
    }

    [Test]
    public void Proofs_ForSizesBeyondTheStoredTree_Throw()
    {
        var store = new InMemoryMerkleNodeStore();
        var builder = new MerkleTreeBuilder();
        for (var i = 0; i < 5; i++)
        {
            builder.Append(MerkleHash.HashLeaf([(byte)i]), store);
        }

        Assert.Multiple(() =>
        {
            Assert.That(() => MerkleProofs.Root(store, 6), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => MerkleProofs.InclusionProof(store, 5, 5), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => MerkleProofs.InclusionProof(store, 0, 6), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => MerkleProofs.ConsistencyProof(store, 4, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => MerkleProofs.ConsistencyProof(store, 2, 6), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => MerkleTreeBuilder.Restore(store, 6), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Store_RefusesNodesOutOfOrder()
    {
        var store = new InMemoryMerkleNodeStore();
        store.AddNode(0, 0, new byte[32]);
        Assert.Multiple(() =>
        {
            Assert.That(() => store.AddNode(0, 2, new byte[32]), Throws.InvalidOperationException);
            Assert.That(() => store.AddNode(0, 0, new byte[32]), Throws.InvalidOperationException);
            Assert.That(() => store.GetNode(1, 0), Throws.InstanceOf<KeyNotFoundException>());
        });
    }

    [Test]
    public void ANodeSourceThatReturnsAShortHash_IsReportedAsDamagedStorage()
    {
        var source = new ShortNodeSource();
        Assert.That(() => MerkleProofs.Root(source, 2), Throws.InvalidOperationException.With.Message.Contains("damaged"));
    }

    private sealed class ShortNodeSource : IMerkleNodeSource
    {
        public long LeafCount => 2;

        public ReadOnlySpan<byte> GetNode(int level, long index) => new byte[31];
    }
}
