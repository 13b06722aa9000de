// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using Grpc.Core;
using Google.Protobuf;

namespace ExchangeBus.Core.TreeHeads;

/// <summary>A submitted head whose bytes, signature and time-stamp verified; what the store keeps.</summary>
public sealed record VerifiedTreeHead(NodeId Node, long TreeSize, byte[] RootHash, SignedTreeHead Signed, string SignerSerialNumber);

/// <summary>
/// The checks on a submitted tree head that need no stored state: the head parses and names
/// the calling node; the signer certificate is a member-signing certificate of this registry's
/// CA naming the node's owner; its signature covers the head bytes exactly as sent; and the
/// time-stamp token is this registry's TSA's, over SHA-256 of those bytes. The store then
/// checks revocation and that the head extends the one it holds.
/// </summary>
public static class TreeHeadChecks
{
    /// <summary>A head is a node id, a size, 32 bytes and a time: far under this.</summary>
    public const int MaxTreeHeadBytes = 1024;

    /// <summary>A DER ECDSA P-256 signature is at most 72 bytes.</summary>
    public const int MaxSignatureBytes = 256;

    public const int MaxCertificateBytes = 16 * 1024;

    /// <summary>A consistency proof between sizes below 2^63 has well under this many hashes.</summary>
    public const int MaxProofHashes = 128;

    public static VerifiedTreeHead Verify(
        SignedTreeHead? signed,
        IReadOnlyCollection<ByteString> proof,
        NodeId caller,
        CertificateChainValidator validator,
        TimeStampTokenVerifier timeStamps)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(validator);
        ArgumentNullException.ThrowIfNull(timeStamps);
        if (signed is null
            || signed.TreeHead.Length is 0 or > MaxTreeHeadBytes
            || signed.Signature.Length is 0 or > MaxSignatureBytes
            || signed.SignerCertificate.Length is 0 or > MaxCertificateBytes
            || signed.TimeStampToken.Length is 0 or > TimeStampVerifierOptions.DefaultMaxTokenBytes
            || proof.Count > MaxProofHashes)
        {
            throw Malformed("The head, its signature, signer certificate and time-stamp token are required and bounded in size; so is the proof.");
        }

        TreeHead head;
        try
        {
            head = TreeHead.Parser.ParseFrom(signed.TreeHead);
        }
        catch (InvalidProtocolBufferException)
        {
            throw Malformed("The tree head is not a valid TreeHead.");
        }

        // Size 0 is left out on purpose: previous_size 0 means "the registry holds none", and a
        // head of the empty log proves nothing.
        if (head.TreeSize is 0 or > long.MaxValue || head.RootHash.Length != SHA256.HashSizeInBytes
            || !NodeId.TryParse(head.Node, out var named))
        {
            throw Malformed("The tree head needs a node identifier, a size from 1 to 2^63-1 and a 32-byte root hash.");
        }

        if (named != caller)
        {
            throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.TreeHeadWrongNode,
                $"The head is for {named}; the caller is {caller}. A node publishes its own heads only.");
        }

        using var signer = ReadSigner(signed.SignerCertificate, caller, validator);
        if (!SignatureHolds(signed.TreeHead.Span, signed.Signature.Span, signer))
        {
            throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.InvalidTreeHeadSignature,
                "The signature does not verify over the tree head bytes with the signer certificate's key.");
        }

        var stamp = timeStamps.VerifyTokenForHash(signed.TimeStampToken.Span, SHA256.HashData(signed.TreeHead.Span));
        if (!stamp.IsValid)
        {
            throw RegistryException.Invalid(RegistryErrors.InvalidTimeStamp,
                $"The time-stamp token is not this registry's TSA's over SHA-256 of the tree head ({stamp.Code}).");
        }

        return new VerifiedTreeHead(caller, (long)head.TreeSize, head.RootHash.ToByteArray(), signed, signer.SerialNumber);
    }

    private static X509Certificate2 ReadSigner(ByteString der, NodeId caller, CertificateChainValidator validator)
    {
        X509Certificate2 signer;
        try
        {
            signer = DerCertificate.Load(der.Span);
        }
        catch (CryptographicException)
        {
            throw InvalidSigner("The signer certificate does not parse.");
        }

        var validation = validator.Validate(signer, CertificateProfile.MemberSigning);
        var named = CertificateNames.ReadMemberSigning(signer.SubjectName);
        var owner = caller.Owner;
        if (!validation.IsValid || named != new MemberSubject(owner.Instance, owner.MemberClass, owner.MemberCode, null))
        {
            signer.Dispose();
            throw InvalidSigner(validation.IsValid
                ? $"The signer certificate does not name {owner}, the node's owner."
                : $"The signer certificate is not a member-signing certificate of this registry's CA ({validation.Code}).");
        }

        return signer;
    }

    private static bool SignatureHolds(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, X509Certificate2 signer)
    {
        try
        {
            using var key = signer.GetECDsaPublicKey();
            return key is not null && EcKeys.IsP256(key)
                && key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            // A malformed signature from a peer is a refusal, never a fault.
            return false;
        }
    }

    private static RegistryException Malformed(string message) => RegistryException.Invalid(RegistryErrors.MalformedTreeHead, message);

    private static RegistryException InvalidSigner(string message) =>
        new(StatusCode.PermissionDenied, RegistryErrors.InvalidSignerCertificate, message);
}
