// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Tests.Merkle;

public sealed class MerkleTreeHeadTests
{
    private static readonly byte[] Root8 = MerkleTestVectors.Hex(MerkleTestVectors.Roots[8]);

    [Test]
    public void Encode_IsTheDocumentedFiftySixBytes()
    {
        // docs/design/merkle.md gives this example; the two must not drift.
        var encoded = new MerkleTreeHead(8, Root8).Encode();
        Assert.That(
            Convert.ToHexStringLower(encoded),
            Is.EqualTo("45786368616e67654275732e4d544831" + "0000000000000008" + MerkleTestVectors.Roots[8]));
    }

    [Test]
    public void ComputeImprint_IsSha256OfTheEncoding()
    {
        var head = new MerkleTreeHead(1_234_567_890_123, Root8);
        Assert.That(head.ComputeImprint(), Is.EqualTo(SHA256.HashData(head.Encode())));
    }

    [Test]
    public void TryDecode_RoundTripsEveryEncoding()
    {
        foreach (var size in new[] { 0L, 1, 8, 10_000_000, long.MaxValue })
        {
            var head = new MerkleTreeHead(size, Root8);
            Assert.That(MerkleTreeHead.TryDecode(head.Encode(), out var decoded), Is.True);
            Assert.That(decoded, Is.EqualTo(head));
        }
    }

    [Test]
    public void TryDecode_RefusesAnythingElse()
    {
        var good = new MerkleTreeHead(8, Root8).Encode();
        var wrongLabel = (byte[])good.Clone();
        wrongLabel[15] = (byte)'2';
        var hugeSize = (byte[])good.Clone();
        hugeSize[16] = 0x80;

        Assert.Multiple(() =>
        {
            Assert.That(MerkleTreeHead.TryDecode(good[..^1], out _), Is.False);
            Assert.That(MerkleTreeHead.TryDecode([.. good, 0], out _), Is.False);
            Assert.That(MerkleTreeHead.TryDecode([], out _), Is.False);
            Assert.That(MerkleTreeHead.TryDecode(wrongLabel, out _), Is.False);
            Assert.That(MerkleTreeHead.TryDecode(hugeSize, out _), Is.False);
        });
    }

    [Test]
    public void Equality_IsByValue_AndTheHeadKeepsItsOwnCopyOfTheRoot()
    {
        var root = (byte[])Root8.Clone();
        var head = new MerkleTreeHead(8, root);
        root[0] ^= 1;

        Assert.Multiple(() =>
        {
            Assert.That(head, Is.EqualTo(new MerkleTreeHead(8, Root8)));
            Assert.That(head.GetHashCode(), Is.EqualTo(new MerkleTreeHead(8, Root8).GetHashCode()));
            Assert.That(head, Is.Not.EqualTo(new MerkleTreeHead(7, Root8)));
            Assert.That(head, Is.Not.EqualTo(new MerkleTreeHead(8, root)));
            Assert.That(head.ToString(), Does.Contain(MerkleTestVectors.Roots[8]));
        });
    }

    [Test]
    public void Constructor_RefusesANegativeSizeOrARootOfTheWrongLength()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new MerkleTreeHead(-1, Root8), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => new MerkleTreeHead(1, Root8[..31]), Throws.ArgumentException);
        });
    }

    [Test]
    public void BuilderHead_IsItsSizeAndRoot()
    {
        var builder = new MerkleTreeBuilder();
        var store = new InMemoryMerkleNodeStore();
        foreach (var leaf in MerkleTestVectors.Leaves)
        {
            builder.Append(MerkleHash.HashLeaf(leaf), store);
        }

        Assert.That(builder.Head(), Is.EqualTo(new MerkleTreeHead(8, Root8)));
    }
}
