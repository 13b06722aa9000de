// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.Merkle;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// Signs envelopes with a member's ECDSA P-256 signing key: ECDSA with SHA-256 over the
/// 64-byte <see cref="EnvelopeDigest"/>, encoded as a DER <c>ECDSA-Sig-Value</c> (RFC 3279),
/// which is what <c>openssl dgst -sha256 -sign</c> produces.
/// </summary>
/// <remarks>
/// The signer does not own the key: whoever loaded it disposes it. An <see cref="ECDsa"/> key
/// is safe to use from several threads for signing.
/// </remarks>
public sealed class EnvelopeSigner
{
    private readonly ECDsa _key;

    /// <exception cref="ArgumentException">The key is not on the P-256 curve.</exception>
    public EnvelopeSigner(ECDsa privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (!EnvelopeKeys.IsP256(privateKey))
        {
            throw new ArgumentException("Envelope signing keys are ECDSA P-256.", nameof(privateKey));
        }

        _key = privateKey;
    }

    /// <summary>Signs a header and a body held in memory.</summary>
    public byte[] Sign(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body) =>
        SignDigest(EnvelopeDigest.Compute(header, body));

    /// <summary>Signs a header and a body read from its current position to its end.</summary>
    public byte[] Sign(ReadOnlySpan<byte> header, Stream body) =>
        SignDigest(EnvelopeDigest.Compute(header, body));

    /// <summary>
    /// Signs a message-log tree head: ECDSA P-256 with SHA-256 over the serialized
    /// <c>audit.v1.TreeHead</c> bytes, DER (docs/design/merkle.md). Those bytes start with the
    /// node id field, never 64 bytes of two digests, so the signature cannot pass for an envelope's.
    /// </summary>
    public byte[] SignTreeHead(ReadOnlySpan<byte> treeHead)
    {
        if (treeHead.IsEmpty || treeHead.Length == EnvelopeDigest.Size || treeHead.StartsWith(BatchSignature.RootLabel))
        {
            throw new ArgumentException("Not a serialized tree head.", nameof(treeHead));
        }

        return _key.SignData(treeHead, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>Signs a to-be-signed value from <see cref="EnvelopeDigest"/>.</summary>
    /// <exception cref="ArgumentException">The value is not <see cref="EnvelopeDigest.Size"/> bytes.</exception>
    public byte[] SignDigest(ReadOnlySpan<byte> toBeSigned)
    {
        // Anything else is a caller passing the wrong buffer (a single hash, a whole body);
        // signing it would produce a signature no verifier of envelopes accepts.
        if (toBeSigned.Length != EnvelopeDigest.Size)
        {
            throw new ArgumentException($"The to-be-signed value is {EnvelopeDigest.Size} bytes.", nameof(toBeSigned));
        }

        return _key.SignData(toBeSigned, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>
    /// Signs several to-be-signed values with one ECDSA signature (docs/design/envelope-signature.md,
    /// "Batch form"): a hash tree over them, its root signed once over
    /// <see cref="BatchSignature.RootLabel"/> ‖ size ‖ root, and for each value, in order, its
    /// batch-form signature. One value makes a tree of one leaf (an empty path); the node's
    /// signer signs a lone envelope with <see cref="SignDigest"/> instead.
    /// </summary>
    /// <exception cref="ArgumentException">No values, more than <see cref="BatchSignature.MaxTreeSize"/>, or one not <see cref="EnvelopeDigest.Size"/> bytes.</exception>
    public byte[][] SignBatch(IReadOnlyList<byte[]> toBeSigned)
    {
        ArgumentNullException.ThrowIfNull(toBeSigned);
        if (toBeSigned.Count is 0 or > BatchSignature.MaxTreeSize || toBeSigned.Any(t => t is null || t.Length != EnvelopeDigest.Size))
        {
            throw new ArgumentException($"A batch is 1 to {BatchSignature.MaxTreeSize} to-be-signed values of {EnvelopeDigest.Size} bytes.", nameof(toBeSigned));
        }

        var nodes = new BatchTreeNodes();
        var tree = new MerkleTreeBuilder();
        Span<byte> leaf = stackalloc byte[MerkleHash.Size];
        foreach (var value in toBeSigned)
        {
            MerkleHash.HashLeaf(value, leaf);
            tree.Append(leaf, nodes);
        }

        var size = toBeSigned.Count;
        var root = MerkleProofs.Root(nodes, size);
        var rootSignature = _key.SignData(BatchSignature.RootToBeSigned(size, root), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var signatures = new byte[size][];
        for (var i = 0; i < size; i++)
        {
            signatures[i] = BatchSignature.Encode(size, i, root, MerkleProofs.InclusionProof(nodes, i, size), rootSignature);
        }

        return signatures;
    }
}
