// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ExchangeBus.Core.Tests.Merkle;

/// <summary>
/// RFC 9162 §2.1 written as the RFC writes it — recursion over the whole list of leaves, with
/// its own hashing — to check the efficient code against. Shares nothing with
/// <c>ExchangeBus.Core.Merkle</c>. Subtree hashes are memoised only to keep the all-pairs tests fast.
/// </summary>
internal sealed class NaiveMerkleTree
{
    private readonly List<byte[]> _leafHashes = [];
    private readonly Dictionary<(int Start, int Size), byte[]> _memo = [];

    public NaiveMerkleTree(IEnumerable<byte[]> leaves)
    {
        foreach (var leaf in leaves)
        {
            _leafHashes.Add(LeafHash(leaf));
        }
    }

    public int Count => _leafHashes.Count;

    public byte[] LeafHashAt(int index) => _leafHashes[index];

    /// <summary>Leaf i of the all-sizes tests: distinct, of varying length (empty for i = 0).</summary>
    public static byte[] TestLeaf(int i) =>
        i == 0 ? [] : Encoding.ASCII.GetBytes(new string('x', i % 5) + i.ToString(CultureInfo.InvariantCulture));

    public static NaiveMerkleTree WithTestLeaves(int count) => new(Enumerable.Range(0, count).Select(TestLeaf));

    public static byte[] LeafHash(byte[] leaf) => SHA256.HashData([0x00, .. leaf]);

    public static byte[] NodeHash(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    /// <summary>MTH(D[n]) for the first n leaves.</summary>
    public byte[] Root(int n) => Mth(0, n);

    /// <summary>PATH(m, D[n]).</summary>
    public List<byte[]> Path(int m, int n) => Path(m, 0, n);

    /// <summary>PROOF(m, D[n]); empty for m = 0 or m = n, as the library defines it.</summary>
    public List<byte[]> Proof(int m, int n) => m == 0 || m == n ? [] : SubProof(m, 0, n, true);

    /// <summary>The hash of the complete subtree at (level, index).</summary>
    public byte[] Node(int level, long index) => Mth((int)(index << level), 1 << level);

    private static int Split(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private byte[] Mth(int start, int n)
    {
        if (n == 0)
        {
            return SHA256.HashData([]);
        }

        if (n == 1)
        {
            return _leafHashes[start];
        }

        if (_memo.TryGetValue((start, n), out var known))
        {
            return known;
        }

        var k = Split(n);
        var hash = NodeHash(Mth(start, k), Mth(start + k, n - k));
        _memo[(start, n)] = hash;
        return hash;
    }

    private List<byte[]> Path(int m, int start, int n)
    {
        if (n == 1)
        {
            return [];
        }

        var k = Split(n);
        return m < k
            ? [.. Path(m, start, k), Mth(start + k, n - k)]
            : [.. Path(m - k, start + k, n - k), Mth(start, k)];
    }

    private List<byte[]> SubProof(int m, int start, int n, bool b)
    {
        if (m == n)
        {
            return b ? [] : [Mth(start, n)];
        }

        var k = Split(n);
        return m <= k
            ? [.. SubProof(m, start, k, b), Mth(start + k, n - k)]
            : [.. SubProof(m - k, start + k, n - k, false), Mth(start, k)];
    }
}
