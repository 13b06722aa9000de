// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Security.Cryptography;

namespace ExchangeBus.Core.Merkle;

/// <summary>
/// The hashes of RFC 9162 §2.1.1 with SHA-256: a leaf is <c>SHA-256(0x00 ‖ leaf)</c>, an
/// interior node <c>SHA-256(0x01 ‖ left ‖ right)</c>, and the empty tree <c>SHA-256("")</c>.
/// The two prefixes keep a leaf from ever passing for a node (second-preimage attacks).
/// </summary>
public static class MerkleHash
{
    public const int Size = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Leaves of up to this many bytes are hashed from the stack; a message log leaf is a 32-byte record hash.
    private const int StackLeafLimit = 256;

    /// <summary>The root of the tree of no leaves: SHA-256 of the empty string.</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    public static byte[] HashLeaf(ReadOnlySpan<byte> leaf)
    {
        var hash = new byte[Size];
        HashLeaf(leaf, hash);
        return hash;
    }

    public static void HashLeaf(ReadOnlySpan<byte> leaf, Span<byte> destination)
    {
        var length = leaf.Length + 1;
        byte[]? rented = null;
        var buffer = length <= StackLeafLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            buffer[0] = LeafPrefix;
            leaf.CopyTo(buffer[1..]);
            SHA256.HashData(buffer, destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        HashChildren(left, right, hash);
        return hash;
    }

    /// <summary>
    /// Hashes two children into <paramref name="destination"/>, which may be one of the inputs:
    /// both are copied out before the hash is written.
    /// </summary>
    public static void HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        if (left.Length != Size || right.Length != Size)
        {
            throw new ArgumentException($"A child hash must be {Size} bytes.");
        }

        Span<byte> buffer = stackalloc byte[1 + (2 * Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        SHA256.HashData(buffer, destination);
    }
}
