// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.MessageLog;
using Org.BouncyCastle.Ocsp;

namespace ExchangeBus.Node.WebConsole.Audit;

/// <summary>A certificate as the record page names it.</summary>
public sealed record CertificateView(string Subject, string SerialNumber, string Issuer, DateTimeOffset NotBefore, DateTimeOffset NotAfter)
{
    public static CertificateView Of(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new(certificate.Subject, certificate.SerialNumber, certificate.Issuer, certificate.NotBefore, certificate.NotAfter);
    }
}

/// <summary>What the stored OCSP response says of the signer certificate: "good", "revoked" or "unknown", and when it was made.</summary>
public sealed record OcspView(string Status, DateTimeOffset ProducedAt);

/// <summary>The time-stamped head covering a record: its size, root, signer, token time and TSA, and whether the proofs hold.</summary>
public sealed record HeadView(
    long TreeSize, byte[] Root, CertificateView Signer, bool SignatureVerifies, DateTimeOffset? StampedAt, string? Tsa, bool TokenVerifies,
    int ProofHashes, bool InclusionVerifies, string? InclusionCode);

/// <summary>
/// One record's evidence, checked here for the auditor's eye: the record signature over its
/// header and body hash, the OCSP answer logged with it, and its inclusion in the first
/// time-stamped tree head covering it. Never the body: its hash and size only. The bundle
/// (<see cref="ExchangeBus.Node.Audit.EvidenceBundle"/>) and <c>xbus audit verify-bundle</c> check
/// the same and the certificates' chains, offline.
/// </summary>
public sealed record RecordEvidenceView(
    MessageLogEntry Entry, int? BodyBytes, CertificateView? Signer, bool? SignatureVerifies, OcspView? Ocsp, HeadView? Head)
{
    public static RecordEvidenceView Of(MessageLogEvidence evidence, MessageLogReader reader)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(reader);
        var entry = evidence.Entry;
        var record = entry.Record;
        CertificateView? signer = null;
        bool? verifies = null;
        if (evidence.SignerCertificate is { } der)
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            signer = CertificateView.Of(certificate);
            if (record.Signature.Length > 0)
            {
                // What the member signed: SHA-256 of the header, then the body's SHA-256 (the bundle's tbs.bin).
                verifies = EnvelopeVerifier.VerifyDigest([.. SHA256.HashData(record.Header), .. record.BodySha256], record.Signature, certificate);
            }
        }

        return new RecordEvidenceView(entry, record.Body?.Length, signer, verifies, ReadOcsp(evidence.OcspResponse), ReadHead(entry, reader));
    }

    private static OcspView? ReadOcsp(byte[]? response)
    {
        if (response is null)
        {
            return null;
        }

        try
        {
            if (new OcspResp(response).GetResponseObject() is not BasicOcspResp basic || basic.Responses.Length == 0)
            {
                return null;
            }

            var status = basic.Responses[0].GetCertStatus() switch
            {
                null => "good",
                RevokedStatus => "revoked",
                _ => "unknown",
            };
            return new OcspView(status, new DateTimeOffset(DateTime.SpecifyKind(basic.ProducedAt, DateTimeKind.Utc)));
        }
        catch (Exception ex) when (ex is OcspException or IOException or ArgumentException or InvalidCastException)
        {
            return null;
        }
    }

    private static HeadView? ReadHead(MessageLogEntry entry, MessageLogReader reader)
    {
        if (reader.FirstTreeHeadCovering(entry.Sequence) is not { } head)
        {
            return null;
        }

        var proof = reader.InclusionProof(entry.Sequence, head.TreeSize);
        var inclusion = MerkleVerifier.VerifyInclusion(entry.Sequence - 1, head.TreeSize, MerkleHash.HashLeaf(entry.Hash), proof, head.RootHash);
        using var signer = X509CertificateLoader.LoadCertificate(head.SignerCertificate);
        bool signed;
        try
        {
            using var key = signer.GetECDsaPublicKey();
            signed = key is not null && key.VerifyData(head.TreeHead, head.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            signed = false;
        }

        DateTimeOffset? stampedAt = null;
        string? tsa = null;
        var tokenVerifies = false;
        if (Rfc3161TimestampToken.TryDecode(head.TimeStampToken, out var token, out _))
        {
            stampedAt = token.TokenInfo.Timestamp;
            tokenVerifies = token.VerifySignatureForData(head.TreeHead, out var tsaCertificate);
            tsa = tsaCertificate?.Subject ?? token.AsSignedCms().SignerInfos.Cast<SignerInfo>().FirstOrDefault()?.Certificate?.Subject;
        }

        return new HeadView(head.TreeSize, head.RootHash, CertificateView.Of(signer), signed, stampedAt, tsa, tokenVerifies,
            proof.Length, inclusion.IsValid, inclusion.Code);
    }
}
