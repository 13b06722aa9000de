// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Node.Audit;

/// <summary>One thing wrong with a bundle: a code of <see cref="EvidenceBundleErrors"/> and the file at fault.</summary>
public sealed record EvidenceBundleProblem(string Code, string File, string Message)
{
    public override string ToString() => $"{Code} {File}: {Message}";
}

/// <summary>The outcome of <see cref="EvidenceBundleVerifier"/>: every problem found, in the order checked.</summary>
public sealed record EvidenceBundleVerification(
    IReadOnlyList<EvidenceBundleProblem> Problems,
    string? MessageId,
    string? Node,
    IReadOnlyList<ulong> Records,
    IReadOnlyDictionary<ulong, DateTimeOffset> HeadTimes)
{
    public bool IsValid => Problems.Count == 0;

    /// <summary>The code of the first problem, or null when the bundle verified.</summary>
    public string? Code => Problems.Count == 0 ? null : Problems[0].Code;

    /// <summary>Per head: the last time-stamp that held (head.tst or its last valid renewal), whose TSA certificate's notAfter is the date to renew by.</summary>
    public IReadOnlyDictionary<ulong, StampLink> LastStamps { get; init; } = new Dictionary<ulong, StampLink>();

    /// <summary>Per head: how many renewal time-stamps held.</summary>
    public IReadOnlyDictionary<ulong, int> Renewals { get; init; } = new Dictionary<ulong, int>();

    /// <summary>What does not make the bundle invalid but needs doing: evidence due, or soon due, for renewal.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A window's bundle: the window its manifest states (null for a bundle of one message).</summary>
    public BundleWindow? Window { get; init; }

    /// <summary>
    /// The records as the audit API's Query gives them (<see cref="AuditEvidence.ToProto(MessageLogSummary)"/>),
    /// read from the bundle's files: what <see cref="Reconciliation.Compare"/> takes. Proven only when <see cref="IsValid"/>.
    /// </summary>
    public IReadOnlyList<RecordSummary> Summaries { get; init; } = [];
}

/// <summary>
/// Checks an evidence bundle offline against roots the auditor trusts (never the bundle's own
/// root.pem, which must merely be one of them): the manifest, each record's hash recomputed from
/// its fields, the body, the signature over tbs with the signer certificate, the certificate's
/// chain and OCSP response at the record's time, the inclusion proof into the head, and the
/// head's signature, its signer's chain and its RFC 3161 token at the token's time. Times are
/// those the evidence fixes, in whole seconds, never today's (except that a token may not be from
/// the future), so a bundle verifies the same years later; the bundle's check.sh judges the same
/// things at the same instants with openssl. Reports every problem with the file at fault; never
/// throws for a bad bundle, whatever the zip holds (sizes bounded as read, entry names limited
/// to the layout, nothing written to disk).
/// </summary>
public sealed partial class EvidenceBundleVerifier(IReadOnlyList<X509Certificate2> trustedRoots, TimeProvider timeProvider)
{
    /// <summary>A bundle holds a few records of at most 64 MiB of body each; far larger is not one.</summary>
    public const long MaxBundleBytes = 512L * 1024 * 1024;

    /// <summary>
    /// A streamed exchange's bundle holds each message as a record of its own (up to 8 files each),
    /// and a window's bundle up to 5,000 records (the console's AuditorWindow.MaxRecords) with
    /// 7 files each and their heads' 5; the total size stays bounded by <see cref="MaxTotalBytes"/>.
    /// </summary>
    public const int MaxEntries = 64_000;

    /// <summary>The largest body the message log keeps, and a margin.</summary>
    public const long MaxEntryBytes = MessageLogOptions.DefaultMaxBodyBytes + (1024 * 1024);

    /// <summary>Uncompressed, all entries together: what bounds a zip bomb.</summary>
    public const long MaxTotalBytes = 256L * 1024 * 1024;

    private readonly IReadOnlyList<X509Certificate2> trustedRoots = trustedRoots;
    private readonly TimeProvider timeProvider = timeProvider;

    private const string RecordsPrefix = "records/";
    private const string HeadsPrefix = "heads/";

    public EvidenceBundleVerification Verify(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Verify(stream);
    }

    public EvidenceBundleVerification Verify(Stream zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var run = new Run(this);
        var files = run.ReadEntries(zip);
        if (files is null)
        {
            return run.Result();
        }

        run.CheckManifest(files);
        run.CheckRoot(files);
        foreach (var folder in Folders(files, HeadsPrefix))
        {
            run.CheckHead(files, folder);
        }

        var records = Folders(files, RecordsPrefix).ToList();
        if (records.Count == 0)
        {
            run.Problem(EvidenceBundleErrors.Malformed, RecordsPrefix, "The bundle holds no record.");
        }

        foreach (var folder in records)
        {
            run.CheckRecord(files, folder);
        }

        run.CheckStreams();
        return run.Result();
    }

    /// <summary>The numbered folders under <paramref name="prefix"/>, in numeric order, as (number, "prefix/N/").</summary>
    private static IEnumerable<(ulong Number, string Path)> Folders(SortedDictionary<string, byte[]> files, string prefix) =>
        files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[..(k.IndexOf('/', prefix.Length) + 1)])
            .Distinct(StringComparer.Ordinal)
            .Select(p => (ulong.Parse(p.AsSpan(prefix.Length, p.Length - prefix.Length - 1), System.Globalization.CultureInfo.InvariantCulture), p))
            .OrderBy(f => f.Item1);

    // Only the layout's names: anything else (a path with "..", an absolute path, a folder entry) is refused unread.
    [GeneratedRegex(@"\A(manifest\.json|README\.md|check\.sh|check-record\.py|root\.pem|records/[1-9][0-9]{0,18}/(record\.json|header\.bin|body\.bin|tbs\.bin|signature\.der|signer\.pem|ocsp\.der|inclusion-proof\.json)|heads/[1-9][0-9]{0,18}/(head\.bin|head\.sig|signer\.pem|head\.tst|tsa\.pem|renewal-[1-9][0-9]{0,2}\.(tst|tsa\.pem)))\z", RegexOptions.CultureInvariant)]
    private static partial Regex EntryName();

    /// <summary>The times <see cref="DateTimeOffset.FromUnixTimeMilliseconds"/> takes: year 1 to 9999.</summary>
    private const long MinUnixMs = -62_135_596_800_000;

    private const long MaxUnixMs = 253_402_300_799_999;

    private sealed record ParsedHead(ulong TreeSize, byte[] RootHash, DateTimeOffset CreatedAt);

    /// <summary>A clock stopped at one instant: certificates and OCSP responses are judged at the record's time.</summary>
    private sealed class FixedClock(DateTimeOffset instant) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => instant;
    }

    /// <summary>One verification's state.</summary>
    private sealed partial class Run(EvidenceBundleVerifier verifier)
    {
        private readonly List<EvidenceBundleProblem> problems = [];
        private readonly List<ulong> records = [];
        private readonly Dictionary<ulong, ParsedHead> heads = [];
        private readonly Dictionary<ulong, DateTimeOffset> headTimes = [];
        private readonly Dictionary<ulong, StampLink> lastStamps = [];
        private readonly Dictionary<ulong, int> renewals = [];
        private readonly List<RecordSummary> summaries = [];
        private string? messageId;
        private string? node;
        private BundleWindow? window;

        public void Problem(string code, string file, string message) => problems.Add(new EvidenceBundleProblem(code, file, message));

        public EvidenceBundleVerification Result()
        {
            var now = verifier.timeProvider.GetUtcNow();
            return new(problems, messageId, node, records, headTimes)
            {
                LastStamps = lastStamps,
                Renewals = renewals,
                Window = window,
                Summaries = summaries,
                Warnings = [.. lastStamps.OrderBy(s => s.Key)
                    .Select(s => EvidenceRenewal.Warning(EvidenceBundle.HeadFolder(s.Key).TrimEnd('/'), s.Value, now))
                    .OfType<string>()],
            };
        }

        public SortedDictionary<string, byte[]>? ReadEntries(Stream zip)
        {
            const string Zip = "(zip)";
            if (zip.CanSeek && zip.Length > MaxBundleBytes)
            {
                Problem(EvidenceBundleErrors.Malformed, Zip, $"A bundle is at most {MaxBundleBytes} bytes; this one is {zip.Length}.");
                return null;
            }

            try
            {
                using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
                if (archive.Entries.Count > MaxEntries)
                {
                    Problem(EvidenceBundleErrors.Malformed, Zip, $"A bundle has at most {MaxEntries} files; this one has {archive.Entries.Count}.");
                    return null;
                }

                var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
                long total = 0;
                foreach (var entry in archive.Entries)
                {
                    if (!EntryName().IsMatch(entry.FullName))
                    {
                        Problem(EvidenceBundleErrors.Malformed, Printable(entry.FullName), "Not a file of the bundle layout (README.md lists them).");
                        continue;
                    }

                    if (files.ContainsKey(entry.FullName))
                    {
                        Problem(EvidenceBundleErrors.Malformed, entry.FullName, "The zip holds this name twice.");
                        continue;
                    }

                    var content = ReadBounded(entry, Math.Min(MaxEntryBytes, MaxTotalBytes - total));
                    if (content is null)
                    {
                        Problem(EvidenceBundleErrors.Malformed, entry.FullName, $"Larger than a bundle allows ({MaxEntryBytes} bytes a file, {MaxTotalBytes} in all).");
                        return null;
                    }

                    total += content.Length;
                    files[entry.FullName] = content;
                }

                return files;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or NotSupportedException)
            {
                Problem(EvidenceBundleErrors.Malformed, Zip, "Not a readable zip file.");
                return null;
            }
        }

        /// <summary>The entry's bytes, or null past <paramref name="limit"/>: read, never trusting the declared size.</summary>
        private static byte[]? ReadBounded(ZipArchiveEntry entry, long limit)
        {
            if (entry.Length > limit)
            {
                return null;
            }

            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = stream.Read(chunk)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }

        private static string Printable(string name)
        {
            var shown = new string([.. name.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
            return shown.Length < name.Length ? shown + "…" : shown;
        }

        public void CheckManifest(SortedDictionary<string, byte[]> files)
        {
            const string Manifest = EvidenceBundle.ManifestFile;
            if (!files.TryGetValue(Manifest, out var json))
            {
                Problem(EvidenceBundleErrors.Malformed, Manifest, "The bundle has no manifest.");
                return;
            }

            Dictionary<string, string> listed;
            try
            {
                using var document = JsonDocument.Parse(json);
                var root = document.RootElement;
                if (!string.Equals(root.GetProperty("format").GetString(), EvidenceBundle.Format, StringComparison.Ordinal))
                {
                    Problem(EvidenceBundleErrors.Malformed, Manifest, $"Not a manifest of the format {EvidenceBundle.Format}.");
                    return;
                }

                var manifest = EvidenceBundle.ReadManifest(json);
                (messageId, node, window) = (manifest.MessageId, manifest.Node, manifest.Window);
                listed = root.GetProperty("sha256").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? throw new FormatException(), StringComparer.Ordinal);
            }
            catch (Exception ex) when (IsFormatError(ex))
            {
                Problem(EvidenceBundleErrors.Malformed, Manifest, "Not the manifest JSON README.md describes.");
                return;
            }

            foreach (var (name, content) in files.Where(f => !string.Equals(f.Key, Manifest, StringComparison.Ordinal)))
            {
                if (!listed.TryGetValue(name, out var digest))
                {
                    Problem(EvidenceBundleErrors.ManifestMismatch, name, "In the zip but not in the manifest.");
                }
                else if (!HexEquals(digest, SHA256.HashData(content)))
                {
                    Problem(EvidenceBundleErrors.ManifestMismatch, name, "Its SHA-256 is not the manifest's.");
                }
            }

            foreach (var name in listed.Keys.Where(n => !files.ContainsKey(n)).Order(StringComparer.Ordinal))
            {
                Problem(EvidenceBundleErrors.ManifestMismatch, Printable(name), "In the manifest but not in the zip.");
            }
        }

        public void CheckRoot(SortedDictionary<string, byte[]> files)
        {
            const string Root = EvidenceBundle.RootFile;
            if (!files.TryGetValue(Root, out var pem))
            {
                Problem(EvidenceBundleErrors.Malformed, Root, "The bundle has no root certificate.");
                return;
            }

            var certificates = new X509Certificate2Collection();
            try
            {
                certificates.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem));
            }
            catch (CryptographicException)
            {
                Problem(EvidenceBundleErrors.Malformed, Root, "Not PEM certificates.");
                return;
            }

            try
            {
                // The README's openssl commands trust root.pem: it must hold the auditor's roots and nothing else.
                if (certificates.Count == 0 || certificates.Any(c => !verifier.trustedRoots.Any(t => t.RawData.AsSpan().SequenceEqual(c.RawData))))
                {
                    Problem(EvidenceBundleErrors.CertificateUntrusted, Root, "Not the trusted root: the bundle's openssl checks would trust another CA.");
                }
            }
            finally
            {
                foreach (var certificate in certificates)
                {
                    certificate.Dispose();
                }
            }
        }

        public void CheckHead(SortedDictionary<string, byte[]> files, (ulong Size, string Path) folder)
        {
            var (size, d) = folder;
            if (!Require(files, d, [EvidenceBundle.HeadFile, EvidenceBundle.HeadSignatureFile, EvidenceBundle.SignerFile, EvidenceBundle.HeadTokenFile, EvidenceBundle.TsaFile]))
            {
                return;
            }

            var headBytes = files[d + EvidenceBundle.HeadFile];
            TreeHead head;
            NodeId? headNode;
            try
            {
                head = TreeHead.Parser.ParseFrom(headBytes);
            }
            catch (InvalidProtocolBufferException)
            {
                Problem(EvidenceBundleErrors.Malformed, d + EvidenceBundle.HeadFile, "Not a serialized TreeHead.");
                return;
            }

            if (head.TreeSize != size || head.RootHash.Length != MerkleHash.Size || !NodeId.TryParse(head.Node, out headNode) || !IsValidTime(head.CreatedAt))
            {
                Problem(EvidenceBundleErrors.Malformed, d + EvidenceBundle.HeadFile, $"A head of folder {d} has tree size {size}, a 32-byte root, a node and a time.");
                return;
            }

            if (node is not null && !string.Equals(head.Node, node, StringComparison.Ordinal))
            {
                Problem(EvidenceBundleErrors.Malformed, d + EvidenceBundle.HeadFile, $"A head of node {head.Node}, in a bundle of node {node}.");
            }

            var createdAt = head.CreatedAt!.ToDateTimeOffset();
            using var tokens = new TimeStampTokenVerifier([], verifier.trustedRoots, verifier.timeProvider);
            var token = tokens.VerifyTokenForData(files[d + EvidenceBundle.HeadTokenFile], headBytes);
            using (var signer = LoadPem(files, d + EvidenceBundle.SignerFile))
            {
                if (signer is not null)
                {
                    // At the token's time, the time the evidence fixes (check.sh's -attime); the
                    // head's own created_at, the node's clock, only when the token gives none.
                    CheckChain(signer, WholeSeconds(token.GenTime ?? createdAt), d + EvidenceBundle.SignerFile);
                    var owner = headNode.Owner;
                    if (CertificateNames.ReadMemberSigning(signer.SubjectName) is not { } subject
                        || subject != new MemberSubject(owner.Instance, owner.MemberClass, owner.MemberCode, null))
                    {
                        Problem(EvidenceBundleErrors.HeadSignatureInvalid, d + EvidenceBundle.SignerFile, $"Not a signing certificate of {owner}, whose node the head names.");
                    }

                    if (!SignatureHolds(signer, headBytes, files[d + EvidenceBundle.HeadSignatureFile]))
                    {
                        Problem(EvidenceBundleErrors.HeadSignatureInvalid, d + EvidenceBundle.HeadSignatureFile, "The signature does not verify over head.bin with signer.pem's key.");
                    }
                }
            }

            if (CheckToken(files, d, token, size) is { } first)
            {
                CheckRenewals(files, d, size, headBytes, first, tokens);
            }

            heads[size] = new ParsedHead(size, head.RootHash.ToByteArray(), createdAt);
        }

        /// <summary>head.tst at its own time; the link a renewal extends, or null when it does not hold.</summary>
        private StampLink? CheckToken(SortedDictionary<string, byte[]> files, string d, TimeStampVerificationResult result, ulong size)
        {
            if (!result.IsValid)
            {
                var untrusted = string.Equals(result.Code, TrustServiceErrors.TimeStampUntrustedSigner, StringComparison.Ordinal);
                Problem(untrusted ? EvidenceBundleErrors.CertificateUntrusted : EvidenceBundleErrors.TimeStampInvalid, d + EvidenceBundle.HeadTokenFile, result.ToString());
                return null;
            }

            headTimes[size] = result.GenTime!.Value;
            using var signer = result.Signer!;
            using var tsa = LoadPem(files, d + EvidenceBundle.TsaFile);
            if (tsa is not null && !tsa.RawData.AsSpan().SequenceEqual(signer.RawData))
            {
                Problem(EvidenceBundleErrors.TimeStampInvalid, d + EvidenceBundle.TsaFile, "Not the certificate of the TSA that signed head.tst.");
            }

            return new StampLink(d + EvidenceBundle.HeadTokenFile, result.GenTime!.Value, EvidenceRenewal.NotAfter(signer));
        }

        /// <summary>renewal-1.tst, renewal-2.tst, …: each over head.bin ‖ head.tst ‖ the renewals before it, made before the previous TSA certificate expired.</summary>
        private void CheckRenewals(SortedDictionary<string, byte[]> files, string d, ulong size, byte[] headBytes, StampLink first, TimeStampTokenVerifier tokens)
        {
            var found = EvidenceBundle.RenewalsIn(files, d);
            var expected = Enumerable.Range(1, found.Count).Select(k => d + EvidenceRenewal.TokenName(k));
            if (!found.Select(r => r.File).SequenceEqual(expected, StringComparer.Ordinal))
            {
                Problem(EvidenceBundleErrors.Malformed, d + EvidenceRenewal.TokenName(1), $"The renewals of {d} are numbered 1, 2, … with no gap, each with its .tsa.pem.");
                return;
            }

            var (finding, last) = EvidenceRenewal.Check(tokens, [.. headBytes, .. files[d + EvidenceBundle.HeadTokenFile]], first, found);
            if (finding is not null)
            {
                Problem(finding.Fault switch
                {
                    RenewalFault.Untrusted => EvidenceBundleErrors.CertificateUntrusted,
                    RenewalFault.TooLate => EvidenceBundleErrors.RenewalTooLate,
                    _ => EvidenceBundleErrors.RenewalInvalid,
                }, finding.File, finding.Message);
            }

            lastStamps[size] = last;
            renewals[size] = found.TakeWhile(r => !string.Equals(r.File, finding?.File, StringComparison.Ordinal) && !string.Equals(r.TsaFile, finding?.File, StringComparison.Ordinal)).Count();
        }

        public void CheckRecord(SortedDictionary<string, byte[]> files, (ulong Sequence, string Path) folder)
        {
            var (sequence, d) = folder;
            records.Add(sequence);
            if (!Require(files, d, [EvidenceBundle.RecordJson, EvidenceBundle.HeaderFile, EvidenceBundle.InclusionFile]))
            {
                return;
            }

            var fields = ReadRecord(files, d, sequence);
            if (fields is null)
            {
                return;
            }

            var (record, atMs, prevHash, hash) = fields.Value;
            using (var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                if (!CryptographicOperations.FixedTimeEquals(MessageLogHash.Compute(hasher, prevHash, (long)sequence, atMs, record), hash))
                {
                    Problem(EvidenceBundleErrors.RecordHashMismatch, d + EvidenceBundle.RecordJson, "The hash recomputed from record.json, header.bin and signature.der is not the record's hash.");
                }
            }

            if (files.TryGetValue(d + EvidenceBundle.BodyFile, out var body) && !CryptographicOperations.FixedTimeEquals(SHA256.HashData(body), record.BodySha256))
            {
                Problem(EvidenceBundleErrors.BodyHashMismatch, d + EvidenceBundle.BodyFile, "Does not hash to body_sha256.");
            }

            if (record.Signature.Length > 0)
            {
                if (atMs is < MinUnixMs or > MaxUnixMs)
                {
                    Problem(EvidenceBundleErrors.Malformed, d + EvidenceBundle.RecordJson, $"at_unix_ms {atMs} is not a time.");
                }
                else
                {
                    // In whole seconds, as check.sh's openssl -attime takes it, so both judge at the same instant.
                    CheckSignature(files, d, record, WholeSeconds(DateTimeOffset.FromUnixTimeMilliseconds(atMs)));
                }
            }

            AddLink(d, record);
            summaries.Add(Summary(sequence, atMs, record, hash));

            CheckInclusion(files, d, sequence, hash);
        }

        private (MessageLogRecord Record, long AtMs, byte[] PrevHash, byte[] Hash)? ReadRecord(SortedDictionary<string, byte[]> files, string d, ulong sequence)
        {
            var file = d + EvidenceBundle.RecordJson;
            try
            {
                using var document = JsonDocument.Parse(files[file]);
                var r = document.RootElement;
                if (!string.Equals(r.GetProperty("format").GetString(), EvidenceBundle.RecordFormat, StringComparison.Ordinal) || r.GetProperty("sequence").GetUInt64() != sequence)
                {
                    Problem(EvidenceBundleErrors.Malformed, file, $"Not a record of the format {EvidenceBundle.RecordFormat} with sequence {sequence}.");
                    return null;
                }

                var bodyLogged = r.GetProperty("body_logged").GetBoolean();
                files.TryGetValue(d + EvidenceBundle.BodyFile, out var body);
                if (window is not null && body is not null)
                {
                    Problem(EvidenceBundleErrors.Malformed, d + EvidenceBundle.BodyFile, "A window's bundle carries no bodies; body.bin is there.");
                    return null;
                }

                if (window is null && bodyLogged != body is not null)
                {
                    Problem(EvidenceBundleErrors.Malformed, d + EvidenceBundle.BodyFile, bodyLogged ? "The record says its body is logged; body.bin is missing." : "The record says its body is not logged; body.bin is there.");
                    return null;
                }

                var record = new MessageLogRecord
                {
                    MessageId = Text(r, "message_id"),
                    Direction = (MessageDirection)r.GetProperty("direction").GetUInt32(),
                    Client = Text(r, "client"),
                    Service = Text(r, "service"),
                    UserId = Text(r, "user_id"),
                    SubjectId = r.GetProperty("subject_id").GetString(),
                    Issue = Text(r, "issue"),
                    Status = Text(r, "status"),
                    Header = files[d + EvidenceBundle.HeaderFile],
                    // A window's bundle leaves logged bodies out: the record hash takes only whether one is stored.
                    Body = body ?? (bodyLogged ? [] : null),
                    BodySha256 = HexBytes(r, "body_sha256"),
                    Signature = files.GetValueOrDefault(d + EvidenceBundle.SignatureFile) ?? [],
                    SignerCertificateSha256 = r.GetProperty("signer_certificate_sha256").ValueKind == JsonValueKind.Null ? null : HexBytes(r, "signer_certificate_sha256"),
                    CorrelationId = Text(r, "correlation_id"),
                };
                if (messageId is not null && !string.Equals(record.MessageId, messageId, StringComparison.Ordinal))
                {
                    Problem(EvidenceBundleErrors.Malformed, file, $"A record of message {record.MessageId}, in the bundle of message {messageId}.");
                }

                return (record, r.GetProperty("at_unix_ms").GetInt64(), HexBytes(r, "prev_hash"), HexBytes(r, "hash"));
            }
            catch (Exception ex) when (IsFormatError(ex))
            {
                Problem(EvidenceBundleErrors.Malformed, file, "Not the record JSON README.md describes.");
                return null;
            }
        }

        /// <summary>The record as the audit API's Query carries it; a time out of range is already a problem (and the summary's time then the epoch).</summary>
        private static RecordSummary Summary(ulong sequence, long atMs, MessageLogRecord record, byte[] hash) => AuditEvidence.ToProto(new MessageLogSummary(
            (long)sequence,
            atMs is < MinUnixMs or > MaxUnixMs ? DateTimeOffset.UnixEpoch : DateTimeOffset.FromUnixTimeMilliseconds(atMs),
            record.MessageId, record.Direction, record.Client, record.Service, record.UserId, record.SubjectId, record.Issue, record.Status,
            hash, record.BodySha256, record.Signature, record.Header));

        private void CheckSignature(SortedDictionary<string, byte[]> files, string d, MessageLogRecord record, DateTimeOffset at)
        {
            if (!Require(files, d, [EvidenceBundle.TbsFile, EvidenceBundle.SignerFile]))
            {
                return;
            }

            var tbs = files[d + EvidenceBundle.TbsFile];
            if (!tbs.AsSpan().SequenceEqual([.. SHA256.HashData(record.Header), .. record.BodySha256]))
            {
                Problem(EvidenceBundleErrors.TbsMismatch, d + EvidenceBundle.TbsFile, "Not SHA-256(header.bin) followed by body_sha256.");
            }

            using var signer = LoadPem(files, d + EvidenceBundle.SignerFile);
            if (signer is null)
            {
                return;
            }

            var signerFile = d + EvidenceBundle.SignerFile;
            if (record.SignerCertificateSha256 is null || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(signer.RawData), record.SignerCertificateSha256))
            {
                Problem(EvidenceBundleErrors.SignerMismatch, signerFile, "Not the certificate whose SHA-256 the record holds.");
            }
            else if (SenderOf(record) is not { } sender
                || CertificateNames.ReadMemberSigning(signer.SubjectName) != new MemberSubject(sender.Instance, sender.MemberClass, sender.MemberCode, null))
            {
                Problem(EvidenceBundleErrors.SignerMismatch, signerFile, $"Not a signing certificate of the member that sent a {record.Direction} ({SenderOf(record)?.ToString() ?? "unknown"}).");
            }

            // Either form: a batch-form signature carries its path to the signed root (docs/design/envelope-signature.md).
            if (!EnvelopeVerifier.VerifyDigest(tbs, record.Signature, signer))
            {
                Problem(EvidenceBundleErrors.SignatureInvalid, d + EvidenceBundle.SignatureFile, "Does not verify over tbs.bin with signer.pem's key.");
            }

            CheckChain(signer, at, signerFile);
            CheckOcsp(files, d, signer, at);
        }

        /// <summary>Requests are signed by the client's member, responses by the service's.</summary>
        private static MemberId? SenderOf(MessageLogRecord record) =>
            MessageDirections.SignedByClient(record.Direction) ? ClientId.TryParse(record.Client, out var client) ? client.Member : null
            : MessageDirections.SignedByService(record.Direction) ? ServiceId.TryParse(record.Service, out var service) ? service.Subsystem.Member : null
            : null;

        private void CheckOcsp(SortedDictionary<string, byte[]> files, string d, X509Certificate2 signer, DateTimeOffset at)
        {
            var file = d + EvidenceBundle.OcspFile;
            if (!files.TryGetValue(file, out var ocsp))
            {
                Problem(EvidenceBundleErrors.OcspInvalid, file, "A signed record comes with the OCSP response that travelled with it; this one has none.");
                return;
            }

            var issuer = verifier.trustedRoots.FirstOrDefault(r => r.SubjectName.RawData.AsSpan().SequenceEqual(signer.IssuerName.RawData));
            if (issuer is null)
            {
                Problem(EvidenceBundleErrors.OcspInvalid, file, "The signer's issuer is not a trusted root, so no responder of it can be checked.");
                return;
            }

            // Judged at the record's time: the response was fresh when the message was signed and sent.
            var result = new OcspResponseVerifier(new FixedClock(at)).Verify(ocsp, signer, issuer);
            if (!result.IsGood)
            {
                Problem(EvidenceBundleErrors.OcspInvalid, file, result.IsValid ? $"The certificate's status is {result.Status}, not good." : result.ToString());
            }
        }

        private void CheckInclusion(SortedDictionary<string, byte[]> files, string d, ulong sequence, byte[] hash)
        {
            var file = d + EvidenceBundle.InclusionFile;
            ulong leafIndex;
            ulong treeSize;
            string headPath;
            byte[][] proof;
            try
            {
                using var document = JsonDocument.Parse(files[file]);
                var p = document.RootElement;
                leafIndex = p.GetProperty("leaf_index").GetUInt64();
                treeSize = p.GetProperty("tree_size").GetUInt64();
                headPath = Text(p, "head");
                proof = [.. p.GetProperty("hashes").EnumerateArray().Take(64).Select(h => Convert.FromHexString(h.GetString()!))];
            }
            catch (Exception ex) when (IsFormatError(ex))
            {
                Problem(EvidenceBundleErrors.Malformed, file, "Not the inclusion proof JSON README.md describes.");
                return;
            }

            var head = heads.Values.FirstOrDefault(h => string.Equals(EvidenceBundle.HeadFolder(h.TreeSize).TrimEnd('/'), headPath, StringComparison.Ordinal));
            if (head is null)
            {
                if (!problems.Any(x => x.File.StartsWith(headPath + "/", StringComparison.Ordinal)))
                {
                    Problem(EvidenceBundleErrors.Malformed, file, $"Names the head {Printable(headPath)}, which is not in the bundle.");
                }

                return;
            }

            if (leafIndex != sequence - 1)
            {
                Problem(EvidenceBundleErrors.InclusionInvalid, file, $"Leaf {leafIndex} is not record {sequence}'s (leaf {sequence - 1}).");
                return;
            }

            if (treeSize != head.TreeSize)
            {
                Problem(EvidenceBundleErrors.InclusionInvalid, file, $"tree_size {treeSize} is not the size of its head, {head.TreeSize}.");
                return;
            }

            var result = MerkleVerifier.VerifyInclusion((long)leafIndex, (long)head.TreeSize, MerkleHash.HashLeaf(hash), proof, head.RootHash);
            if (!result.IsValid)
            {
                Problem(EvidenceBundleErrors.InclusionInvalid, file, $"Does not lead from record {sequence}'s hash to the root of the head of size {head.TreeSize} ({result.Code}).");
            }
        }

        private void CheckChain(X509Certificate2 certificate, DateTimeOffset at, string file)
        {
            using var chains = new CertificateChainValidator(verifier.trustedRoots, new FixedClock(at));
            var result = chains.Validate(certificate, CertificateProfile.MemberSigning);
            if (!result.IsValid)
            {
                Problem(EvidenceBundleErrors.CertificateUntrusted, file, $"Not a member signing certificate of the trusted root at {at:O}: {string.Join("; ", result.Errors)}");
            }
        }

        private static DateTimeOffset WholeSeconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

        private bool Require(SortedDictionary<string, byte[]> files, string d, string[] names)
        {
            var missing = names.Where(n => !files.ContainsKey(d + n)).ToList();
            foreach (var name in missing)
            {
                Problem(EvidenceBundleErrors.Malformed, d + name, "Missing.");
            }

            return missing.Count == 0;
        }

        private X509Certificate2? LoadPem(SortedDictionary<string, byte[]> files, string file)
        {
            try
            {
                var text = System.Text.Encoding.ASCII.GetString(files[file]);
                return PemEncoding.TryFind(text, out var fields) && text[fields.Label] is "CERTIFICATE"
                    ? X509CertificateLoader.LoadCertificate(Convert.FromBase64String(text[fields.Base64Data]))
                    : throw new CryptographicException();
            }
            catch (Exception ex) when (ex is CryptographicException or FormatException)
            {
                Problem(EvidenceBundleErrors.Malformed, file, "Not a PEM certificate.");
                return null;
            }
        }

        private static bool SignatureHolds(X509Certificate2 signer, byte[] data, byte[] signature)
        {
            try
            {
                using var key = signer.GetECDsaPublicKey();
                return key is not null && key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }

        private static string Text(JsonElement element, string name) =>
            element.GetProperty(name).GetString() ?? throw new FormatException($"{name} is null.");

        private static byte[] HexBytes(JsonElement element, string name) => Convert.FromHexString(Text(element, name));

        private static bool HexEquals(string hex, byte[] digest)
        {
            try
            {
                return CryptographicOperations.FixedTimeEquals(Convert.FromHexString(hex), digest);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        /// <summary>
        /// A time <c>Timestamp.ToDateTimeOffset</c> can convert: a changed byte can leave
        /// nanos or seconds out of range, and that must be a finding, not an exception.
        /// </summary>
        private static bool IsValidTime(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
            time is { Nanos: >= 0 and <= 999_999_999, Seconds: >= -62_135_596_800 and <= 253_402_300_799 };

        private static bool IsFormatError(Exception ex) =>
            ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException;
    }
}
