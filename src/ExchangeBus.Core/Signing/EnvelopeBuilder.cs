// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using Google.Protobuf;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// The one place the bus puts a signed envelope together: requests, responses and the file
/// documents (acceptance, manifest, receipt). The header is serialized once and those bytes are
/// both what travels and what is signed, over SHA-256(header) ‖ SHA-256(body)
/// (docs/design/envelope-signature.md); the signer's certificate and its OCSP response go
/// beside the signature so a verifier needs nothing else.
/// </summary>
public static class EnvelopeBuilder
{
    /// <summary>
    /// An envelope carrying <paramref name="body"/>. <c>toBeSigned</c> is what the signature
    /// covers; a response binds to its SHA-256 (<c>request_hash</c>).
    /// </summary>
    public static SignedEnvelope Build(
        MessageHeader header, ByteString body, EnvelopeSigner signer, ReadOnlySpan<byte> signerCertificate, ReadOnlySpan<byte> ocspResponse,
        out byte[] toBeSigned)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(body);
        var headerBytes = header.ToByteArray();
        toBeSigned = EnvelopeDigest.Compute(headerBytes, body.Span);
        return Assemble(headerBytes, body, toBeSigned, signer, signerCertificate, ocspResponse);
    }

    /// <summary>
    /// An envelope without its body, signed over SHA-256(header) ‖ <paramref name="bodySha256"/>:
    /// the file documents, whose body is a file that travels in chunks of its own.
    /// </summary>
    public static SignedEnvelope BuildDetached(
        MessageHeader header, ReadOnlySpan<byte> bodySha256, EnvelopeSigner signer, ReadOnlySpan<byte> signerCertificate, ReadOnlySpan<byte> ocspResponse)
    {
        ArgumentNullException.ThrowIfNull(header);
        var headerBytes = header.ToByteArray();
        var toBeSigned = EnvelopeDigest.FromHashes(SHA256.HashData(headerBytes), bodySha256);
        return Assemble(headerBytes, ByteString.Empty, toBeSigned, signer, signerCertificate, ocspResponse);
    }

    /// <summary>
    /// The envelope of a header serialized once (<paramref name="headerBytes"/>) and a body,
    /// with a signature made elsewhere over their tbs: the node's batching signer.
    /// </summary>
    public static SignedEnvelope WithSignature(
        byte[] headerBytes, ByteString body, byte[] signature, ReadOnlySpan<byte> signerCertificate, ReadOnlySpan<byte> ocspResponse)
    {
        ArgumentNullException.ThrowIfNull(headerBytes);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(signature);
        return new SignedEnvelope
        {
            Header = UnsafeByteOperations.UnsafeWrap(headerBytes),
            Body = body,
            Signature = UnsafeByteOperations.UnsafeWrap(signature),
            SignerCertificate = ByteString.CopyFrom(signerCertificate),
            SignerOcspResponse = ByteString.CopyFrom(ocspResponse),
        };
    }

    private static SignedEnvelope Assemble(
        byte[] headerBytes, ByteString body, byte[] toBeSigned, EnvelopeSigner signer, ReadOnlySpan<byte> signerCertificate, ReadOnlySpan<byte> ocspResponse)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return WithSignature(headerBytes, body, signer.SignDigest(toBeSigned), signerCertificate, ocspResponse);
    }
}
