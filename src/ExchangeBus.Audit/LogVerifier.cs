// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TreeHeads;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Audit;

/// <summary>What to verify and how.</summary>
public sealed record LogVerifierOptions
{
    public long FromSequence { get; init; } = 1;

    /// <summary>The last record to verify; null for the end of the log (and then a head beyond it is a cut tail).</summary>
    public long? ToSequence { get; init; }

    /// <summary>Check each signed record's signature (ECDSA, the costly part) and signer certificate.</summary>
    public bool CheckRecordSignatures { get; init; } = true;

    /// <summary>
    /// Batches of record signatures checked at once on the thread pool; 0 checks them on the
    /// reading thread. One per core: the reading thread mostly waits for them.
    /// </summary>
    public int SignatureWorkers { get; init; } = Environment.ProcessorCount;

    /// <summary>How far a token's time may be before its head's creation time (the node's and the TSA's clocks differ).</summary>
    public TimeSpan AllowedClockSkew { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The outcome of <see cref="LogVerifier.Verify"/>: valid, or the first problem (the one at the
/// lowest record or head position) with a code from <see cref="MessageLogProblems"/> and where,
/// plus what was checked.
/// </summary>
public sealed record LogVerificationReport
{
    public required bool IsValid { get; init; }

    /// <summary>One of <see cref="MessageLogProblems"/>; null when valid.</summary>
    public string? Problem { get; init; }

    /// <summary>The record the problem is in (for a cut tail: the first record missing); null for a head's own problem.</summary>
    public long? Sequence { get; init; }

    /// <summary>The size of the tree head the problem is in; null for a record's problem.</summary>
    public long? TreeSize { get; init; }

    /// <summary>One sentence (sequence numbers, sizes and codes only, never content).</summary>
    public string? Detail { get; init; }

    public required long FromSequence { get; init; }

    public required long ToSequence { get; init; }

    /// <summary>Records that passed the chain checks.</summary>
    public long RecordsChecked { get; init; }

    /// <summary>Record signatures verified.</summary>
    public long SignaturesChecked { get; init; }

    /// <summary>Tree heads checked (bytes, signer, signature, token, and root against the rebuilt tree).</summary>
    public long HeadsChecked { get; init; }

    /// <summary>Distinct signer certificates checked.</summary>
    public long CertificatesChecked { get; init; }

    /// <summary>The largest tree head in the log (0 for none).</summary>
    public long LastHeadSize { get; init; }

    /// <summary>Records of the range after the last head: not yet time-stamped, so only the chain vouches for them (not a failure).</summary>
    public long NotYetTimeStamped { get; init; }
}

/// <summary>
/// Verifies a node's message log in one streaming pass (docs/design/message-log.md, "Verifying a
/// log"): the hash chain (<see cref="MessageLogReader.Verify"/>'s own walk), the Merkle tree
/// rebuilt from the record hashes and compared with every stored tree head's root at its size,
/// each head's bytes, signer, signature and RFC 3161 token, and each signed record's signature
/// and signer certificate. Records are never all in memory: one chunk of rows, the tree's
/// frontier, a page of heads and the batches of signatures in flight.
/// </summary>
/// <remarks>
/// Signatures are checked on worker threads (ECDSA verification costs ~50 times what hashing a
/// record does); everything else runs on the reading thread. The first problem reported is the
/// one at the lowest position, whichever thread found it: the pass stops reading once it has
/// passed a problem, and waits for every batch before it.
/// </remarks>
public sealed partial class LogVerifier
{
    private const int SignatureBatch = 512;
    private const int HeadPage = 256;

    private readonly MessageLogReader _log;
    private readonly LogVerifierTrust _trust;
    private readonly LogVerifierOptions _options;

    public LogVerifier(MessageLogReader log, LogVerifierTrust trust, LogVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(trust);
        _log = log;
        _trust = trust;
        _options = options ?? new LogVerifierOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.FromSequence, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(_options.SignatureWorkers, nameof(options));
    }

    public LogVerificationReport Verify(CancellationToken cancellationToken = default)
    {
        using var pass = new Pass(_log, _trust, _options, cancellationToken);
        return pass.Run();
    }

    /// <summary>A problem and where: position is the record's sequence or the head's size, so problems order along the log.</summary>
    private sealed record Finding(long Position, int Rank, string Code, long? Sequence, long? TreeSize, string Detail);

    private sealed record CheckedHead(long TreeSize, byte[] SignedRoot, byte[] StoredRoot);

    /// <summary>A signer certificate checked once: its key, the member it names, and when its chain holds.</summary>
    private sealed record Signer(byte[] PublicKey, MemberSubject? Named, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil, X509Certificate2 Certificate);


    private sealed partial class Pass : IDisposable
    {
        private readonly MessageLogReader _log;
        private readonly LogVerifierTrust _trust;
        private readonly LogVerifierOptions _options;
        private readonly CancellationToken _cancellation;
        private readonly InstantClock _clock = new(DateTimeOffset.UnixEpoch);
        private readonly CertificateChainValidator _chains;
        private readonly TimeStampTokenVerifier _timeStamps;
        private readonly Queue<CheckedHead> _heads = new();
        private readonly IMerkleNodeSink _discard = new DiscardNodes();
        private readonly byte[] _root = new byte[MerkleHash.Size];
        private readonly Lock _gate = new();
        private MerkleTreeBuilder _tree = new();
        private Finding? _first;
        private long _to;
        private long _headsLoadedTo;
        private DateTimeOffset? _previousGenTime;
        private long _headsChecked;

        public Pass(MessageLogReader log, LogVerifierTrust trust, LogVerifierOptions options, CancellationToken cancellation)
        {
            _log = log;
            _trust = trust;
            _options = options;
            _cancellation = cancellation;
            _chains = new CertificateChainValidator(trust.CertificateAuthorities, _clock);

            // The TSA certificates the configuration lists, or one chaining to a bus CA for the
            // time-stamping profile: a TSA certificate rolled over since is still the bus's TSA.
            _timeStamps = new TimeStampTokenVerifier(trust.TimeStampingAuthorities, trust.CertificateAuthorities, TimeProvider.System,
                new TimeStampVerifierOptions { AllowedClockSkew = options.AllowedClockSkew });
        }

        public LogVerificationReport Run()
        {
            // Heads before records: a head is only ever made over records already written, so a
            // head beyond the last record read after it means records were cut, not a race.
            var latestHead = _log.LatestTreeHead()?.TreeSize ?? 0;
            var last = _log.LastSequence();
            // Archived and pruned records are checked in their archives (xbus audit verify-archive);
            // here the chain and the tree go on from the last of them.
            var from = Math.Max(_options.FromSequence, _log.PrunedThrough() + 1);
            _to = _options.ToSequence ?? last;
            if (_options.ToSequence is null && latestHead > last)
            {
                Found(new Finding(last + 1, 0, MessageLogProblems.Truncated, last + 1, latestHead,
                    $"the log ends at record {last}, but a tree head signed over {latestHead} records: records {last + 1} to {latestHead} were cut off"));
            }

            _headsLoadedTo = from - 1;
            try
            {
                _tree = from == 1 ? new MerkleTreeBuilder() : _log.TreeBuilder(from - 1);
            }
            catch (MessageLogIntegrityException ex)
            {
                Found(new Finding(from - 1, 0, MessageLogProblems.MerkleNodeMismatch, from - 1, null,
                    $"the Merkle tree of records before {from}, where the range starts, cannot be read ({ex.Problem})"));
            }

            LoadHeads();
            var chain = _first is { Position: var stopAt } && stopAt < from
                ? MessageLogVerification.Valid(0)
                : _log.VerifyChain(from, _to, _options.CheckRecordSignatures ? CheckOnWorker : null, OnRecord);
            if (!chain.IsValid)
            {
                Found(new Finding(chain.FirstBadSequence!.Value, 0, chain.Problem!, chain.FirstBadSequence, null, chain.Detail!));
            }

            Flush();
            Task.WaitAll([.. _batches], _cancellation);

            if (_first is null && chain.IsValid && _options.ToSequence is null && _to > 0)
            {
                CheckStoredTree(_to, null);
            }

            var valid = _first is null;
            return new LogVerificationReport
            {
                IsValid = valid,
                Problem = _first?.Code,
                Sequence = _first?.Sequence,
                TreeSize = _first?.TreeSize,
                Detail = _first?.Detail,
                FromSequence = from,
                ToSequence = _to,
                RecordsChecked = chain.RecordsChecked,
                SignaturesChecked = Interlocked.Read(ref _signaturesChecked),
                HeadsChecked = _headsChecked,
                CertificatesChecked = _signers.Count,
                LastHeadSize = latestHead,
                NotYetTimeStamped = Math.Max(0, _to - Math.Max(latestHead, from - 1)),
            };
        }

        public void Dispose()
        {
            _chains.Dispose();
            _timeStamps.Dispose();
            foreach (var signer in _signers.Values)
            {
                signer?.Certificate.Dispose();
            }
        }

        /// <summary>One record that passed the chain checks: into the tree, its signature checked or queued, the heads at its size compared.</summary>
        private bool OnRecord(ScannedRecord entry)
        {
            _cancellation.ThrowIfCancellationRequested();
            var sequence = entry.Sequence;
            _tree.Append(entry.Leaf, _discard);
            if (_options.CheckRecordSignatures)
            {
                CheckRecordSigner(entry);
            }

            while (_heads.TryPeek(out var head) && head.TreeSize <= sequence)
            {
                _heads.Dequeue();
                CompareRoot(head);
                if (_heads.Count == 0)
                {
                    LoadHeads();
                }
            }

            // Past a problem nothing later can come first; stop reading.
            return FirstPosition() > sequence;
        }

        private void CompareRoot(CheckedHead head)
        {
            _tree.WriteRoot(_root);
            if (!CryptographicOperations.FixedTimeEquals(_root, head.SignedRoot))
            {
                Found(new Finding(head.TreeSize, 1, MessageLogProblems.RootMismatch, null, head.TreeSize,
                    $"the Merkle root of records 1 to {head.TreeSize} is not the root signed in the tree head of size {head.TreeSize}"));
                return;
            }

            if (!CryptographicOperations.FixedTimeEquals(_root, head.StoredRoot))
            {
                Found(new Finding(head.TreeSize, 1, MessageLogProblems.RootMismatch, null, head.TreeSize,
                    $"the root stored beside the tree head of size {head.TreeSize} is not the root of records 1 to {head.TreeSize} (which the head's signed bytes do hold)"));
                return;
            }

            CheckStoredTree(head.TreeSize, head.TreeSize);
            _headsChecked++;
        }

        /// <summary>
        /// The stored nodes give the same root as the rebuilt tree at <paramref name="size"/>: they
        /// are what the stamper signs the next head from and what roots are served from.
        /// </summary>
        private void CheckStoredTree(long size, long? headSize)
        {
            byte[] stored;
            try
            {
                stored = _log.TreeRoot(size);
            }
            catch (MessageLogIntegrityException ex)
            {
                Found(new Finding(size, 1, MessageLogProblems.MerkleNodeMismatch, size, headSize,
                    $"the stored Merkle nodes for the tree of {size} records cannot be read ({ex.Problem})"));
                return;
            }

            if (headSize is null)
            {
                _tree.WriteRoot(_root);
            }

            if (!CryptographicOperations.FixedTimeEquals(stored, _root))
            {
                Found(new Finding(size, 1, MessageLogProblems.MerkleNodeMismatch, size, headSize,
                    $"the stored Merkle nodes give another root for the tree of {size} records than the records do"));
            }
        }

        /// <summary>The next page of heads in the range, each checked on its own as it is read (nothing in it depends on the records).</summary>
        private void LoadHeads()
        {
            if (_headsLoadedTo >= _to)
            {
                return;
            }

            var page = _log.TreeHeads(_headsLoadedTo + 1, _to, HeadPage);
            _headsLoadedTo = page.Count < HeadPage ? _to : page[^1].TreeSize;
            foreach (var head in page)
            {
                if (CheckHead(head) is { } checkedHead)
                {
                    _heads.Enqueue(checkedHead);
                }
            }
        }

        private CheckedHead? CheckHead(StoredTreeHead stored)
        {
            var size = stored.TreeSize;
            Finding Problem(string code, string detail) => new(size, 1, code, null, size, detail);

            // The certificate is judged when the signed head says it was made (the row's copy of that
            // time is checked against it below): a head stays good after its signer certificate expires.
            var createdAt = SignedCreationTime(stored.TreeHead) ?? stored.CreatedAt;
            _clock.Instant = createdAt;
            VerifiedTreeHead verified;
            try
            {
                verified = TreeHeadChecks.Verify(
                    new SignedTreeHead
                    {
                        TreeHead = ByteString.CopyFrom(stored.TreeHead),
                        Signature = ByteString.CopyFrom(stored.Signature),
                        SignerCertificate = ByteString.CopyFrom(stored.SignerCertificate),
                        TimeStampToken = ByteString.CopyFrom(stored.TimeStampToken),
                    },
                    [], _trust.Node, _chains, _timeStamps);
            }
            catch (RegistryException ex)
            {
                var code = ex.Code switch
                {
                    RegistryErrors.TreeHeadWrongNode => MessageLogProblems.HeadWrongNode,
                    RegistryErrors.InvalidSignerCertificate => SignerNamesAnotherMember(stored.SignerCertificate)
                        ? MessageLogProblems.WrongSigner
                        : MessageLogProblems.CertificateUntrusted,
                    RegistryErrors.InvalidTreeHeadSignature => MessageLogProblems.HeadSignatureInvalid,
                    RegistryErrors.InvalidTimeStamp => MessageLogProblems.TimeStampInvalid,
                    _ => MessageLogProblems.HeadMalformed,
                };
                Found(Problem(code, $"tree head of size {size}: {ex.Message}"));
                return null;
            }

            if (verified.TreeSize != size || createdAt.ToUnixTimeMilliseconds() != stored.CreatedAt.ToUnixTimeMilliseconds())
            {
                Found(Problem(MessageLogProblems.HeadMalformed,
                    $"the signed tree head stored at size {size} says size {verified.TreeSize} and another creation time than its row"));
                return null;
            }

            var genTime = Rfc3161TimestampToken.TryDecode(stored.TimeStampToken, out var token, out _) ? token.TokenInfo.Timestamp : (DateTimeOffset?)null;
            if (genTime is null || genTime < createdAt - _options.AllowedClockSkew)
            {
                Found(Problem(MessageLogProblems.TimeStampOutOfOrder,
                    $"the time-stamp of the tree head of size {size} is from before the head was made"));
                return null;
            }

            if (genTime < _previousGenTime)
            {
                Found(Problem(MessageLogProblems.TimeStampOutOfOrder,
                    $"the time-stamp of the tree head of size {size} is earlier than the previous head's"));
                return null;
            }

            _previousGenTime = genTime;
            return new CheckedHead(size, verified.RootHash, stored.RootHash);
        }

        private static DateTimeOffset? SignedCreationTime(byte[] treeHead)
        {
            try
            {
                return TreeHead.Parser.ParseFrom(treeHead).CreatedAt?.ToDateTimeOffset();
            }
            catch (InvalidProtocolBufferException)
            {
                return null;
            }
        }

        private bool SignerNamesAnotherMember(byte[] der)
        {
            try
            {
                using var certificate = DerCertificate.Load(der);
                var owner = _trust.Node.Owner;
                return _chains.Validate(certificate, CertificateProfile.MemberSigning).IsValid
                    && CertificateNames.ReadMemberSigning(certificate.SubjectName) != new MemberSubject(owner.Instance, owner.MemberClass, owner.MemberCode, null);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }

        private long FirstPosition()
        {
            lock (_gate)
            {
                return _first?.Position ?? long.MaxValue;
            }
        }

        private void Found(Finding finding)
        {
            lock (_gate)
            {
                if (_first is null || finding.Position < _first.Position || (finding.Position == _first.Position && finding.Rank < _first.Rank))
                {
                    _first = finding;
                }
            }
        }
    }

    private sealed class DiscardNodes : IMerkleNodeSink
    {
        public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
        {
        }
    }
}
