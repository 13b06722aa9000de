// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace ExchangeBus.Core.Merkle;

/// <summary>
/// A tree head: the size of a log's Merkle tree and its root. What a node signs, has
/// time-stamped and publishes, and what every proof is checked against.
/// </summary>
/// <remarks>
/// The canonical encoding (<see cref="Encode"/>), the bytes that are signed and whose SHA-256
/// is the RFC 3161 message imprint, is exactly 56 bytes:
/// <code>
///  0..15  the 16 ASCII bytes "ExchangeBus.MTH1"   (what the bytes are, and version 1 of the form)
/// 16..23  tree size, unsigned 64-bit big-endian
/// 24..55  root hash, 32 bytes (RFC 9162 MTH, SHA-256)
/// </code>
/// Fixed length and fixed offsets, so there is one encoding per head and nothing to parse
/// ambiguously. The label keeps a tree-head signature from being replayed as any other signed
/// object of the bus (an envelope signature covers 64 bytes of two digests, never 56 bytes
/// starting with this label). docs/design/merkle.md says the same for auditors.
/// </remarks>
public sealed record MerkleTreeHead
{
    public const int EncodedLength = 16 + 8 + MerkleHash.Size;

    private static ReadOnlySpan<byte> Label => "ExchangeBus.MTH1"u8;

    private readonly byte[] _rootHash;

    public MerkleTreeHead(long treeSize, ReadOnlySpan<byte> rootHash)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        if (rootHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A root hash is {MerkleHash.Size} bytes, not {rootHash.Length}.", nameof(rootHash));
        }

        TreeSize = treeSize;
        _rootHash = rootHash.ToArray();
    }

    public long TreeSize { get; }

    /// <summary>The 32-byte root; a copy the head owns, so a head never changes after it is made.</summary>
    public ReadOnlyMemory<byte> RootHash => _rootHash;

    /// <summary>The 56-byte canonical encoding described on the type.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        Label.CopyTo(bytes);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(16), (ulong)TreeSize);
        _rootHash.CopyTo(bytes.AsSpan(24));
        return bytes;
    }

    /// <summary>SHA-256 of <see cref="Encode"/>: the message imprint to time-stamp (RFC 3161) or the digest to sign.</summary>
    public byte[] ComputeImprint() => SHA256.HashData(Encode());

    /// <summary>Reads an encoding made by <see cref="Encode"/>; false for anything else (wrong length, label or a size above 2^63 − 1).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out MerkleTreeHead? head)
    {
        head = null;
        if (encoded.Length != EncodedLength || !encoded[..16].SequenceEqual(Label))
        {
            return false;
        }

        var size = BinaryPrimitives.ReadUInt64BigEndian(encoded[16..]);
        if (size > long.MaxValue)
        {
            return false;
        }

        head = new MerkleTreeHead((long)size, encoded[24..]);
        return true;
    }

    public bool Equals(MerkleTreeHead? other) =>
        other is not null && TreeSize == other.TreeSize && _rootHash.AsSpan().SequenceEqual(other._rootHash);

    public override int GetHashCode() => HashCode.Combine(TreeSize, BinaryPrimitives.ReadInt32LittleEndian(_rootHash));

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("TreeSize = ").Append(TreeSize).Append(", RootHash = ").Append(Convert.ToHexStringLower(_rootHash));
        return true;
    }
}
