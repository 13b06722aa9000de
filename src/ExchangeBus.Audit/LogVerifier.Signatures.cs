// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Audit;

/// <summary>The record signatures and signer certificates of a verification pass.</summary>
/// <remarks>
/// A batch-form signature (docs/design/envelope-signature.md, "Batch form") is checked in two
/// parts: its path from the record's tbs to the root, on the worker that read the record (a few
/// SHA-256), and its root signature, one ECDSA verification per (signer, size, root, root
/// signature) while the pass remembers it: the records of a batch share it. A single-form
/// signature is one ECDSA verification, on a worker. Every record's signature is checked
/// either way; what is shared is only the root signature, which is the same bytes.
/// </remarks>
public sealed partial class LogVerifier
{
    /// <summary>Roots remembered per pass: far more batches in flight at once than a node's signers make.</summary>
    private const int RootCapacity = 8_192;

    // What the reading worker says of a record's signature (RecordCheck's answer).
    private const int NothingChecked = 0;
    private const int PathLeadsToRoot = 1;
    private const int PathRefused = 2;

    /// <summary>One ECDSA verification to make on a worker: a single-form record signature, or a batch root's (then <see cref="Root"/> is set).</summary>
    private readonly record struct PendingSignature(long Sequence, byte[] Signed, byte[] Signature, Signer Signer, RootCheck? Root);

    /// <summary>A SHA-256 as a value (certificate hashes, root identities), so sets hold no arrays.</summary>
    private readonly record struct Sha256Key(ulong A, ulong B, ulong C, ulong D)
    {
        public static Sha256Key Of(ReadOnlySpan<byte> sha256) => new(
            BinaryPrimitives.ReadUInt64LittleEndian(sha256), BinaryPrimitives.ReadUInt64LittleEndian(sha256[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(sha256[16..]), BinaryPrimitives.ReadUInt64LittleEndian(sha256[24..]));
    }

    /// <summary>
    /// One batch root signed by one signer: its ECDSA check is queued once, and the records that
    /// carry it are counted while it waits. Guarded by its own lock (the pass and a worker).
    /// </summary>
    private sealed class RootCheck(int treeSize, byte[] root, byte[] rootSignature, long firstSequence)
    {
        public int TreeSize { get; } = treeSize;

        public byte[] Root { get; } = root;

        public byte[] RootSignature { get; } = rootSignature;

        /// <summary>The first record that carried it: where a root that does not verify is reported.</summary>
        public long FirstSequence { get; } = firstSequence;

        /// <summary>Null while the check waits, then whether the root signature verified.</summary>
        public bool? Verified { get; set; }

        /// <summary>Records counted while the check waits.</summary>
        public long Waiting { get; set; }

        public bool Carries(int treeSize, ReadOnlySpan<byte> root, ReadOnlySpan<byte> rootSignature) =>
            TreeSize == treeSize && root.SequenceEqual(Root) && rootSignature.SequenceEqual(RootSignature);
    }

    private sealed partial class Pass
    {
        private readonly Dictionary<Sha256Key, Signer?> _signers = [];
        private readonly HashSet<Sha256Key> _namedOnly = [];
        private readonly Dictionary<string, MemberSubject?> _members = new(StringComparer.Ordinal);

        // A few member texts with what they name, so a record's party is compared as bytes, not made a string.
        private readonly (bool Request, byte[] Text, MemberSubject? Member)[] _recentMembers = new (bool, byte[], MemberSubject?)[16];
        private readonly Dictionary<Signer, RootCheck> _lastRoot = new(ReferenceEqualityComparer.Instance);
        private readonly List<Task> _batches = [];

        // Two generations, as BatchRootCache: a root in use stays, at most RootCapacity are held.
        private Dictionary<Sha256Key, RootCheck> _roots = [];
        private Dictionary<Sha256Key, RootCheck> _olderRoots = [];
        private List<PendingSignature> _pending = new(SignatureBatch);
        private Sha256Key _lastSignerKey;
        private Signer? _lastSigner;
        private int _nextRecentMember;
        private long _signaturesChecked;

        /// <summary>On the reading worker: a batch-form signature's path from the record's tbs to its root (the root signature is the pass's).</summary>
        private static int CheckOnWorker(ScannedRecord record)
        {
            var signature = record.Signature;
            if (!BatchSignature.IsBatchForm(signature) || record.BodySha256.Length != SHA256.HashSizeInBytes)
            {
                return NothingChecked;
            }

            Span<byte> toBeSigned = stackalloc byte[EnvelopeDigest.Size];
            SHA256.HashData(record.Header, toBeSigned);
            record.BodySha256.CopyTo(toBeSigned[SHA256.HashSizeInBytes..]);
            return BatchPaths.ForThisThread().LeadsToRoot(toBeSigned, signature) ? PathLeadsToRoot : PathRefused;
        }

        /// <summary>The record's signer certificate (present, unaltered, trusted at the record's time, the right member); then its signature.</summary>
        private void CheckRecordSigner(ScannedRecord record)
        {
            var sequence = record.Sequence;
            if (record.Signature.IsEmpty)
            {
                // Refusals and audit queries are logged unsigned; a certificate they name (an
                // auditor's TLS certificate) must still be there, unaltered.
                if (record.NamesSignerCertificate && (record.SignerCertificateSha256.Length != SHA256.HashSizeInBytes || _namedOnly.Add(Sha256Key.Of(record.SignerCertificateSha256))))
                {
                    ReadCertificate(record.SignerCertificateSha256.ToArray(), sequence);
                }

                return;
            }

            if (!record.NamesSignerCertificate)
            {
                Found(new Finding(sequence, 0, MessageLogProblems.CertificateMissing, sequence, null,
                    $"record {sequence} is signed but names no signer certificate"));
                return;
            }

            var at = record.At;
            var signer = LoadSigner(record.SignerCertificateSha256, sequence, at);
            if (signer is null)
            {
                return;
            }

            if (at < signer.ValidFrom || at > signer.ValidUntil)
            {
                _clock.Instant = at;
                var validation = _chains.Validate(signer.Certificate, CertificateProfile.MemberSigning);
                if (!validation.IsValid)
                {
                    Found(new Finding(sequence, 0, MessageLogProblems.CertificateUntrusted, sequence, null,
                        $"the signer certificate of record {sequence} was not valid when the record was written ({validation.Code})"));
                    return;
                }
            }

            var expected = ExpectedSigner(record);
            if (expected is null || signer.Named != expected)
            {
                Found(new Finding(sequence, 0, MessageLogProblems.WrongSigner, sequence, null,
                    $"record {sequence} is not signed by the member that sent it"));
                return;
            }

            var signature = record.Signature;
            if (record.BodySha256.Length != SHA256.HashSizeInBytes)
            {
                // No tbs can be made of it, so no signature is over it.
                SignatureInvalid(sequence);
                return;
            }

            if (!BatchSignature.IsBatchForm(signature))
            {
                Span<byte> headerHash = stackalloc byte[SHA256.HashSizeInBytes];
                SHA256.HashData(record.Header, headerHash);
                Queue(new PendingSignature(sequence, EnvelopeDigest.FromHashes(headerHash, record.BodySha256), signature.ToArray(), signer, null));
                return;
            }

            if (record.Checked != PathLeadsToRoot)
            {
                SignatureInvalid(sequence);
                return;
            }

            BatchSignature.TryDecode(signature, out var parts);
            CountAgainst(RootOf(signer, parts.TreeSize, BatchSignature.Root(signature), BatchSignature.RootSignature(signature, parts), sequence), sequence);
        }

        /// <summary>The root's check: the signer's last one when the record carries the same root (the records of a batch come together), else remembered or new (and queued).</summary>
        private RootCheck RootOf(Signer signer, int treeSize, ReadOnlySpan<byte> root, ReadOnlySpan<byte> rootSignature, long sequence)
        {
            if (_lastRoot.TryGetValue(signer, out var last) && last.Carries(treeSize, root, rootSignature))
            {
                return last;
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(signer.PublicKey);
            hash.AppendData(BatchSignature.RootToBeSigned(treeSize, root));
            hash.AppendData(rootSignature);
            var key = Sha256Key.Of(hash.GetHashAndReset());
            if (!_roots.TryGetValue(key, out var check))
            {
                if (_olderRoots.Remove(key, out check))
                {
                    Remember(key, check);
                }
                else
                {
                    check = new RootCheck(treeSize, root.ToArray(), rootSignature.ToArray(), sequence);
                    Remember(key, check);
                    Queue(new PendingSignature(sequence, BatchSignature.RootToBeSigned(treeSize, root), check.RootSignature, signer, check));
                }
            }

            _lastRoot[signer] = check;
            return check;
        }

        private void Remember(Sha256Key key, RootCheck check)
        {
            if (_roots.Count >= RootCapacity / 2)
            {
                (_olderRoots, _roots) = (_roots, _olderRoots);
                _roots.Clear();
            }

            _roots[key] = check;
        }

        /// <summary>A record whose path leads to the root: checked once the root's signature is.</summary>
        private void CountAgainst(RootCheck check, long sequence)
        {
            lock (check)
            {
                switch (check.Verified)
                {
                    case true:
                        Interlocked.Increment(ref _signaturesChecked);
                        break;
                    case false:
                        SignatureInvalid(sequence);
                        break;
                    default:
                        check.Waiting++;
                        break;
                }
            }
        }

        private void SignatureInvalid(long sequence) =>
            Found(new Finding(sequence, 0, MessageLogProblems.RecordSignatureInvalid, sequence, null,
                $"the signature of record {sequence} does not verify over its header and body hash"));

        /// <summary>A request is signed by its client's member; a response by the member providing the service.</summary>
        private MemberSubject? ExpectedSigner(ScannedRecord record)
        {
            var request = MessageDirections.SignedByClient(record.Direction);
            var response = MessageDirections.SignedByService(record.Direction);
            if (!request && !response)
            {
                return null;
            }

            var text = request ? record.Client : record.Service;
            foreach (var recent in _recentMembers)
            {
                if (recent.Text is not null && recent.Request == request && text.SequenceEqual(recent.Text))
                {
                    return recent.Member;
                }
            }

            var name = Encoding.UTF8.GetString(text);
            if (!_members.TryGetValue(name, out var member))
            {
                MemberId? id = request
                    ? ClientId.TryParse(name, out var client) ? client.Member : null
                    : ServiceId.TryParse(name, out var service) ? service.Subsystem.Member : null;
                member = id is null ? null : new MemberSubject(id.Instance, id.MemberClass, id.MemberCode, null);
                if (_members.Count < 100_000)
                {
                    _members[name] = member;
                }
            }

            _recentMembers[_nextRecentMember] = (request, text.ToArray(), member);
            _nextRecentMember = (_nextRecentMember + 1) % _recentMembers.Length;
            return member;
        }

        /// <summary>Reads and checks a certificate the first time a record names it; null (with the problem found) when it does not pass.</summary>
        private Signer? LoadSigner(ReadOnlySpan<byte> sha256, long sequence, DateTimeOffset at)
        {
            if (sha256.Length != SHA256.HashSizeInBytes)
            {
                // No certificate hashes to it: the lookup below would find none.
                ReadCertificate(sha256.ToArray(), sequence);
                return null;
            }

            var key = Sha256Key.Of(sha256);
            if (_lastSigner is not null && key == _lastSignerKey)
            {
                return _lastSigner;
            }

            if (_signers.TryGetValue(key, out var known))
            {
                if (known is null)
                {
                    Found(new Finding(sequence, 0, MessageLogProblems.CertificateUntrusted, sequence, null,
                        $"the signer certificate of record {sequence} did not pass its checks for an earlier record"));
                }

                (_lastSignerKey, _lastSigner) = (key, known);
                return known;
            }

            var der = ReadCertificate(sha256.ToArray(), sequence);
            if (der is null)
            {
                return null;
            }

            X509Certificate2 certificate;
            try
            {
                certificate = DerCertificate.Load(der);
            }
            catch (CryptographicException)
            {
                Found(new Finding(sequence, 0, MessageLogProblems.CertificateUntrusted, sequence, null,
                    $"the signer certificate of record {sequence} does not parse"));
                _signers[key] = null;
                return null;
            }

            _clock.Instant = at;
            var validation = _chains.Validate(certificate, CertificateProfile.MemberSigning);
            using var publicKey = certificate.GetECDsaPublicKey();
            if (!validation.IsValid || publicKey is null || !EcKeys.IsP256(publicKey))
            {
                Found(new Finding(sequence, 0, MessageLogProblems.CertificateUntrusted, sequence, null,
                    $"the signer certificate of record {sequence} does not chain to a trusted CA as a member signing certificate ({validation.Code ?? "not a P-256 key"})"));
                certificate.Dispose();
                _signers[key] = null;
                return null;
            }

            var issuer = _trust.CertificateAuthorities.First(ca => ca.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData));
            var signer = new Signer(
                publicKey.ExportSubjectPublicKeyInfo(),
                CertificateNames.ReadMemberSigning(certificate.SubjectName),
                Max(certificate.NotBefore, issuer.NotBefore),
                Min(certificate.NotAfter, issuer.NotAfter),
                certificate);
            _signers[key] = signer;
            (_lastSignerKey, _lastSigner) = (key, signer);
            return signer;
        }

        /// <summary>The certificate stored under <paramref name="sha256"/>, if it is there and hashes to it (otherwise the finding is made).</summary>
        private byte[]? ReadCertificate(byte[] sha256, long sequence)
        {
            var der = _log.GetBlob(sha256);
            if (der is null)
            {
                Found(new Finding(sequence, 0, MessageLogProblems.CertificateMissing, sequence, null,
                    $"the certificate record {sequence} names is not in the log"));
                return null;
            }

            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(der), sha256))
            {
                Found(new Finding(sequence, 0, MessageLogProblems.CertificateMismatch, sequence, null,
                    $"the certificate stored for record {sequence} does not hash to the SHA-256 the record names"));
                return null;
            }

            return der;
        }

        private static DateTimeOffset Max(DateTime a, DateTime b) => new(a > b ? a.ToUniversalTime() : b.ToUniversalTime(), TimeSpan.Zero);

        private static DateTimeOffset Min(DateTime a, DateTime b) => new(a < b ? a.ToUniversalTime() : b.ToUniversalTime(), TimeSpan.Zero);

        private void Queue(PendingSignature item)
        {
            _pending.Add(item);
            if (_pending.Count == SignatureBatch)
            {
                Flush();
            }
        }

        /// <summary>Hands the queued verifications to a worker (or makes them here with no workers), keeping at most one batch per worker in flight.</summary>
        private void Flush()
        {
            if (_pending.Count == 0)
            {
                return;
            }

            var batch = _pending;
            _pending = new List<PendingSignature>(SignatureBatch);
            if (_options.SignatureWorkers == 0)
            {
                CheckSignatures(batch);
                return;
            }

            _batches.RemoveAll(done => done.IsCompleted);
            while (_batches.Count >= _options.SignatureWorkers)
            {
                _batches.RemoveAt(Task.WaitAny([.. _batches], _cancellation));
            }

            _batches.Add(Task.Run(() => CheckSignatures(batch), _cancellation));
        }

        /// <summary>
        /// Makes a batch of ECDSA verifications: a bad single-form signature or root signature is a
        /// finding (a root's at the first record that carried it). Keys are imported per batch
        /// rather than shared: .NET does not promise an <see cref="ECDsa"/> is safe to use from two threads.
        /// </summary>
        private void CheckSignatures(List<PendingSignature> batch)
        {
            var keys = new Dictionary<Signer, ECDsa>(ReferenceEqualityComparer.Instance);
            try
            {
                foreach (var item in batch)
                {
                    if (!keys.TryGetValue(item.Signer, out var key))
                    {
                        key = ECDsa.Create();
                        key.ImportSubjectPublicKeyInfo(item.Signer.PublicKey, out _);
                        keys[item.Signer] = key;
                    }

                    var valid = item.Root is null
                        ? EnvelopeVerifier.VerifyDigestWithCheckedKey(item.Signed, item.Signature, key)
                        : VerifyRoot(item.Signed, item.Signature, key);
                    if (item.Root is { } root)
                    {
                        Settle(root, valid);
                    }
                    else if (valid)
                    {
                        Interlocked.Increment(ref _signaturesChecked);
                    }
                    else
                    {
                        SignatureInvalid(item.Sequence);
                    }
                }
            }
            finally
            {
                foreach (var key in keys.Values)
                {
                    key.Dispose();
                }
            }
        }

        private void Settle(RootCheck root, bool valid)
        {
            lock (root)
            {
                root.Verified = valid;
                if (valid)
                {
                    Interlocked.Add(ref _signaturesChecked, root.Waiting);
                }
                else
                {
                    SignatureInvalid(root.FirstSequence);
                }
            }
        }

        private static bool VerifyRoot(byte[] rootToBeSigned, byte[] rootSignature, ECDsa key)
        {
            try
            {
                return key.VerifyData(rootToBeSigned, rootSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            }
            catch (CryptographicException)
            {
                // Malformed signature bytes on a provider that throws for them rather than answering false.
                return false;
            }
        }
    }
}
