// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// The batch form of an envelope signature (docs/design/envelope-signature.md, "Batch form"):
/// one ECDSA signature over the root of a hash tree of several envelopes' tbs values, and per
/// envelope its position and audit path. The tree is RFC 9162's, with the message log's
/// hashing (<see cref="MerkleHash"/>): leaf <c>SHA-256(0x00 ‖ tbs)</c>, node
/// <c>SHA-256(0x01 ‖ left ‖ right)</c>.
/// </summary>
/// <remarks>
/// Encoding, version 1, all integers big-endian:
/// <code>
/// 0        1   0xB1: the batch form, version 1 (a single-form DER signature starts with 0x30)
/// 1        4   tree size n, 1 ≤ n ≤ MaxTreeSize
/// 5        4   leaf index i, i &lt; n
/// 9        1   p, the audit path length RFC 9162 gives for (i, n)
/// 10       32  root
/// 42       32p audit path, nearest the leaf first
/// 42 + 32p …   the root signature: DER ECDSA-Sig-Value over RootLabel ‖ n (8 bytes) ‖ root, ECDSA P-256 with SHA-256
/// </code>
/// A fixed binary layout rather than a protobuf message: protobuf's encoding is not canonical,
/// and these bytes are hashed into the message log and checked by hand with a few lines of
/// script, so one byte string must have exactly one meaning.
/// </remarks>
public static class BatchSignature
{
    /// <summary>The first byte of a batch-form signature, version 1.</summary>
    public const byte FormV1 = 0xB1;

    /// <summary>The most leaves a batch-form signature may name; the node's signer makes batches of at most <see cref="MaxSignerBatch"/>.</summary>
    public const int MaxTreeSize = 1 << 16;

    /// <summary>The largest batch the bus's own signer builds.</summary>
    public const int MaxSignerBatch = 256;

    /// <summary>Bytes before the audit path: form, size, index, path length, root.</summary>
    internal const int FixedPart = 1 + 4 + 4 + 1 + MerkleHash.Size;

    /// <summary>
    /// What a batch root's signature is over: these 28 ASCII bytes, the tree size (unsigned
    /// 64-bit big-endian) and the 32-byte root. 68 bytes, never the 64 of a single-form tbs, and
    /// not a protobuf message (0x45 'E' opens a fixed32 field, then 'n' has the unused wire type
    /// 6), so a root signature cannot pass for an envelope's or a tree head's. The size is
    /// signed because an RFC 9162 path can fit two sizes (leaf 0 of 7 or of 8): signed, a
    /// batch signature's bytes have one meaning.
    /// </summary>
    public static ReadOnlySpan<byte> RootLabel => "ExchangeBus.EnvelopeBatch.v1"u8;

    /// <summary>True when the signature bytes say they are the batch form; otherwise they are the single form (DER).</summary>
    public static bool IsBatchForm(ReadOnlySpan<byte> signature) => !signature.IsEmpty && signature[0] == FormV1;

    /// <summary>The value a root signature is over: <see cref="RootLabel"/> ‖ tree size ‖ root.</summary>
    public static byte[] RootToBeSigned(long treeSize, ReadOnlySpan<byte> root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        if (root.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A root is {MerkleHash.Size} bytes.", nameof(root));
        }

        var value = new byte[RootLabel.Length + sizeof(ulong) + MerkleHash.Size];
        RootLabel.CopyTo(value);
        BinaryPrimitives.WriteUInt64BigEndian(value.AsSpan(RootLabel.Length), (ulong)treeSize);
        root.CopyTo(value.AsSpan(RootLabel.Length + sizeof(ulong)));
        return value;
    }

    /// <summary>The audit path length RFC 9162 §2.1.3.1 gives leaf <paramref name="leafIndex"/> of a tree of <paramref name="treeSize"/> leaves.</summary>
    public static int PathLength(long leafIndex, long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, treeSize);
        var length = 0;
        while (treeSize > 1)
        {
            var k = MerkleProofs.LargestPowerOfTwoBelow(treeSize);
            if (leafIndex < k)
            {
                treeSize = k;
            }
            else
            {
                leafIndex -= k;
                treeSize -= k;
            }

            length++;
        }

        return length;
    }

    /// <summary>Encodes one envelope's batch-form signature.</summary>
    public static byte[] Encode(int treeSize, int leafIndex, ReadOnlySpan<byte> root, IReadOnlyList<byte[]> path, ReadOnlySpan<byte> rootSignature)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(treeSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, MaxTreeSize);
        if (root.Length != MerkleHash.Size || rootSignature.IsEmpty || path.Count != PathLength(leafIndex, treeSize) || path.Any(h => h.Length != MerkleHash.Size))
        {
            throw new ArgumentException("Not the parts of a batch signature: a root and path hashes of 32 bytes, a path of the length the index calls for, a signature.");
        }

        var bytes = new byte[FixedPart + (path.Count * MerkleHash.Size) + rootSignature.Length];
        bytes[0] = FormV1;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), (uint)treeSize);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(5), (uint)leafIndex);
        bytes[9] = (byte)path.Count;
        root.CopyTo(bytes.AsSpan(10));
        var at = FixedPart;
        foreach (var hash in path)
        {
            hash.CopyTo(bytes.AsSpan(at));
            at += MerkleHash.Size;
        }

        rootSignature.CopyTo(bytes.AsSpan(at));
        return bytes;
    }

    /// <summary>
    /// Reads a batch-form signature from a peer: a refusal code for anything that is not exactly
    /// the form, never an exception. The root signature is not checked here.
    /// </summary>
    public static EnvelopeSignatureResult TryDecode(ReadOnlySpan<byte> signature, out BatchSignatureParts parts)
    {
        parts = default;
        if (!IsBatchForm(signature) || signature.Length <= FixedPart)
        {
            return EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.Malformed);
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(signature[1..]);
        var index = BinaryPrimitives.ReadUInt32BigEndian(signature[5..]);
        if (size is 0 or > MaxTreeSize || index >= size)
        {
            return EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.InvalidIndex);
        }

        var pathLength = signature[9];
        if (pathLength != PathLength(index, size) || signature.Length <= FixedPart + (pathLength * MerkleHash.Size))
        {
            return EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.Malformed);
        }

        parts = new BatchSignatureParts((int)size, (int)index, pathLength);
        return EnvelopeSignatureResult.Valid;
    }

    /// <summary>Do the tbs and the audit path lead to the root the signature carries?</summary>
    internal static EnvelopeSignatureResult CheckPath(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature, BatchSignatureParts parts)
    {
        Span<byte> leaf = stackalloc byte[MerkleHash.Size];
        MerkleHash.HashLeaf(toBeSigned, leaf);
        var inclusion = MerkleVerifier.VerifyPackedInclusion(parts.LeafIndex, parts.TreeSize, leaf, Path(signature, parts), Root(signature));
        return inclusion.IsValid ? EnvelopeSignatureResult.Valid : EnvelopeSignatureResult.Refused(EnvelopeSignatureErrors.PathMismatch);
    }

    /// <summary>The audit path of a decoded batch-form signature: its hashes back to back, nearest the leaf first.</summary>
    public static ReadOnlySpan<byte> Path(ReadOnlySpan<byte> signature, BatchSignatureParts parts) =>
        signature.Slice(FixedPart, parts.PathLength * MerkleHash.Size);

    /// <summary>The root a decoded batch-form signature carries.</summary>
    public static ReadOnlySpan<byte> Root(ReadOnlySpan<byte> signature) => signature.Slice(10, MerkleHash.Size);

    /// <summary>The root signature (DER) of a decoded batch-form signature.</summary>
    public static ReadOnlySpan<byte> RootSignature(ReadOnlySpan<byte> signature, BatchSignatureParts parts) =>
        signature[(FixedPart + (parts.PathLength * MerkleHash.Size))..];
}

/// <summary>The position fields of a decoded batch-form signature.</summary>
public readonly record struct BatchSignatureParts(int TreeSize, int LeafIndex, int PathLength);
