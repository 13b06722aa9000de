// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Audit;

/// <summary>Stable codes of archiving and of checking an archive.</summary>
public static class ArchiveErrors
{
    public const string NothingToArchive = "Archive.NothingToArchive";
    public const string NotTimeStamped = "Archive.NotTimeStamped";
    public const string LogInvalid = "Archive.LogInvalid";
    public const string Malformed = "Archive.Malformed";
    public const string ChainBroken = "Archive.ChainBroken";
    public const string RootMismatch = "Archive.RootMismatch";
    public const string HeadInvalid = "Archive.HeadInvalid";
    public const string NotLinked = "Archive.NotLinked";

    /// <summary>ARCHIVE.renewal-K.tst is not a valid token, at its own time, over the archive and renewals 1 … K−1, or was made before the stamps it renews, or its .tsa.pem is not its signer.</summary>
    public const string RenewalInvalid = "Archive.RenewalInvalid";

    /// <summary>ARCHIVE.renewal-K.tst was made after the TSA certificate of a stamp it renews had expired: not evidence.</summary>
    public const string RenewalTooLate = "Archive.RenewalTooLate";
}

public sealed class ArchiveException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The manifest of an archive file (manifest.json), what links it to the archive before.</summary>
public sealed record ArchiveManifest
{
    public const string CurrentFormat = "exchangebus-log-archive-1";

    public required string Format { get; init; }

    public required string Node { get; init; }

    public required long FromSequence { get; init; }

    public required long ToSequence { get; init; }

    /// <summary>Hex: the hash of record FromSequence − 1 (32 zero bytes for the first archive).</summary>
    public required string PreviousRecordHash { get; init; }

    /// <summary>Hex: the hash of record ToSequence.</summary>
    public required string LastRecordHash { get; init; }

    /// <summary>Hex SHA-256 of the previous archive file; empty for the first.</summary>
    public required string PreviousArchiveSha256 { get; init; }

    /// <summary>Hex: the Merkle frontier at FromSequence − 1 (one complete subtree per set bit of the size, largest first), so the roots of the heads inside can be recomputed from this archive alone.</summary>
    public required IReadOnlyList<string> Frontier { get; init; }

    public required IReadOnlyList<long> TreeHeadSizes { get; init; }

    /// <summary>Hex SHA-256 of every other entry.</summary>
    public required IReadOnlyDictionary<string, string> Entries { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record ArchiveResult(string Path, long FromSequence, long ToSequence, string Sha256);

/// <summary>
/// What <see cref="LogArchiver.Verify"/> found valid: the manifest and, when tokens were checked,
/// the renewals that held and the last time-stamp of the chain (whose TSA certificate's notAfter
/// is the date to renew by), with a warning when that date is near or past.
/// </summary>
public sealed record ArchiveVerification(ArchiveManifest Manifest, bool TokensChecked, int Renewals, StampLink? LastStamp, string? Warning);

/// <summary>
/// Archiving a node's message log (design.md, "Message log"; issue 5): a closed period — records
/// up to a time-stamped tree head — goes into a zip that proves itself (records, their
/// certificates and OCSP responses, the heads and their tokens, the Merkle frontier before it)
/// and names the SHA-256 of the archive before it, so archives form a chain like the records.
/// Records are removed from the log only once archived, and only whole archives at a time.
/// </summary>
public static class LogArchiver
{
    private const string Manifest = "manifest.json";
    private const string RecordsEntry = "records.bin";
    private const string HeadsEntry = "heads.bin";
    private const string OcspEntry = "record-ocsp.json";
    private const int MaxManifestBytes = 16 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    // Zip entries carry a time; a fixed one makes the same archive the same bytes.
    private static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Writes the next archive: records after the last archive, up to the largest tree head whose
    /// records are all older than <paramref name="before"/>.
    /// </summary>
    /// <exception cref="ArchiveException">Nothing to archive, the period is not time-stamped yet, or the log does not verify.</exception>
    public static ArchiveResult Archive(string logPath, string node, string outputDirectory, DateTimeOffset before, TimeProvider time)
    {
        using var reader = MessageLogReader.Open(logPath);
        using var connection = new SqliteConnection(MessageLogDatabase.ReaderConnectionString(logPath));
        connection.Open();
        using var transaction = connection.BeginTransaction(deferred: true); // one snapshot throughout
        var previous = LastArchive(connection);
        var from = (previous?.ToSequence ?? 0) + 1;
        var closedThrough = Scalar(connection, "SELECT COALESCE(MAX(seq), 0) FROM records WHERE at < $p;", before.ToUnixTimeMilliseconds());
        var to = Scalar(connection, "SELECT COALESCE(MAX(tree_size), 0) FROM tree_heads WHERE tree_size <= $p;", closedThrough);
        if (closedThrough < from)
        {
            throw new ArchiveException(ArchiveErrors.NothingToArchive, $"No record after {from - 1} is older than {before:O}.");
        }

        if (to < from)
        {
            throw new ArchiveException(ArchiveErrors.NotTimeStamped, $"Records {from}–{closedThrough} are not yet covered by a time-stamped tree head.");
        }

        var check = reader.Verify(from, to);
        if (!check.IsValid)
        {
            throw new ArchiveException(ArchiveErrors.LogInvalid, $"The log does not verify at record {check.FirstBadSequence} ({check.Problem}); nothing archived.");
        }

        var frontier = Frontier(connection, from - 1);
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var blobs = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var ocsp = new SortedDictionary<long, string>();
        using (var records = new MemoryStream())
        {
            // Whole records, in order; a period is at most what one node logs in a day or so.
            for (var next = from; next <= to;)
            {
                var range = reader.ReadRange(next, to, 1_000);
                foreach (var entry in range.Entries)
                {
                    AuditEvidence.ToProto(entry).WriteDelimitedTo(records);
                    var evidence = reader.GetEvidence(entry.Sequence)!;
                    if (evidence.SignerCertificate is { } certificate)
                    {
                        blobs[$"blobs/{Convert.ToHexStringLower(SHA256.HashData(certificate))}.der"] = certificate;
                    }

                    if (evidence.OcspResponse is { } response)
                    {
                        var name = $"blobs/{Convert.ToHexStringLower(SHA256.HashData(response))}.der";
                        blobs[name] = response;
                        ocsp[entry.Sequence] = name;
                    }
                }

                next = range.Entries.Count == 0 ? to + 1 : range.Entries[^1].Sequence + 1;
            }

            entries[RecordsEntry] = records.ToArray();
        }

        var heads = reader.TreeHeads(from, to, int.MaxValue);
        using (var headStream = new MemoryStream())
        {
            foreach (var head in heads)
            {
                AuditEvidence.ToProto(head).WriteDelimitedTo(headStream);
            }

            entries[HeadsEntry] = headStream.ToArray();
        }

        entries[OcspEntry] = JsonSerializer.SerializeToUtf8Bytes(ocsp.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value), Json);
        foreach (var (name, bytes) in blobs)
        {
            entries[name] = bytes;
        }

        var manifest = new ArchiveManifest
        {
            Format = ArchiveManifest.CurrentFormat,
            Node = node,
            FromSequence = from,
            ToSequence = to,
            PreviousRecordHash = Convert.ToHexStringLower(from == 1 ? MessageLogHash.Genesis() : previous?.LastHash ?? reader.Get(from - 1)!.Hash),
            LastRecordHash = Convert.ToHexStringLower(reader.Get(to)!.Hash),
            PreviousArchiveSha256 = previous is null ? string.Empty : Convert.ToHexStringLower(previous.Sha256),
            Frontier = frontier.Select(Convert.ToHexStringLower).ToList(),
            TreeHeadSizes = heads.Select(h => h.TreeSize).ToList(),
            Entries = entries.ToDictionary(e => e.Key, e => Convert.ToHexStringLower(SHA256.HashData(e.Value)), StringComparer.Ordinal),
            CreatedAt = time.GetUtcNow(),
        };
        entries[Manifest] = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);

        Directory.CreateDirectory(outputDirectory);
        var fileName = $"archive-{from:D12}-{to:D12}.zip";
        var path = Path.Combine(outputDirectory, fileName);
        var zip = Zip(entries);
        Core.AtomicFile.WriteOwnerOnly(path, zip);
        var sha256 = SHA256.HashData(zip);
        transaction.Commit();

        using var writer = MessageLogDatabase.OpenWriter(logPath, new MessageLogOptions());
        using var insert = writer.CreateCommand();
        insert.CommandText = "INSERT INTO archives (to_seq, from_seq, last_hash, file_name, sha256, previous_sha256, created_at) VALUES ($to, $from, $last, $file, $sha, $prev, $at);";
        insert.Parameters.AddWithValue("$to", to);
        insert.Parameters.AddWithValue("$from", from);
        insert.Parameters.AddWithValue("$last", Convert.FromHexString(manifest.LastRecordHash));
        insert.Parameters.AddWithValue("$file", fileName);
        insert.Parameters.AddWithValue("$sha", sha256);
        insert.Parameters.AddWithValue("$prev", previous?.Sha256 ?? []);
        insert.Parameters.AddWithValue("$at", manifest.CreatedAt.ToUnixTimeMilliseconds());
        insert.ExecuteNonQuery();
        return new ArchiveResult(path, from, to, Convert.ToHexStringLower(sha256));
    }

    /// <summary>
    /// Removes from the log the records of whole archives whose every record is older than
    /// <paramref name="olderThan"/>. Their leaf hashes stay (so later records keep their proofs)
    /// and so does each archive's last hash (so the chain goes on). Returns how many records went.
    /// </summary>
    public static long Prune(string logPath, DateTimeOffset olderThan, TimeProvider time)
    {
        using var connection = MessageLogDatabase.OpenWriter(logPath, new MessageLogOptions());
        using var transaction = connection.BeginTransaction(deferred: false);
        var (prunedThrough, _) = MessageLogReader.PrunedThrough(connection);
        var through = prunedThrough;
        using (var find = connection.CreateCommand())
        {
            find.Transaction = transaction;
            find.CommandText = """
                SELECT a.to_seq FROM archives a
                WHERE a.pruned_at IS NULL AND NOT EXISTS (SELECT 1 FROM records r WHERE r.seq BETWEEN a.from_seq AND a.to_seq AND r.at >= $before)
                ORDER BY a.to_seq;
                """;
            find.Parameters.AddWithValue("$before", olderThan.ToUnixTimeMilliseconds());
            using var rows = find.ExecuteReader();
            while (rows.Read())
            {
                through = Math.Max(through, rows.GetInt64(0));
            }
        }

        if (through == prunedThrough)
        {
            return 0;
        }

        KeepLeaves(connection, transaction, prunedThrough, through);
        Execute(connection, transaction, "DELETE FROM record_ocsp WHERE seq > $a AND seq <= $b;", prunedThrough, through);
        var removed = Execute(connection, transaction, "DELETE FROM records WHERE seq > $a AND seq <= $b;", prunedThrough, through);
        Execute(connection, transaction, "UPDATE archives SET pruned_at = $at WHERE to_seq > $a AND to_seq <= $b;", prunedThrough, through, at: time.GetUtcNow().ToUnixTimeMilliseconds());
        transaction.Commit();
        return removed;
    }

    /// <summary>
    /// Checks an archive file on its own: entries against the manifest, the records' chain from
    /// the manifest's previous hash to its last, every tree head's root recomputed from the
    /// frontier and the records, every head's signature, and given the archive before, the link
    /// between the two. With <paramref name="trustedRoots"/>, every head's RFC 3161 token too,
    /// each at its own genTime (its TSA certificate chaining to a root then, however long ago),
    /// and the renewals kept beside the file (<see cref="LogArchiveRenewal"/>).
    /// </summary>
    /// <exception cref="ArchiveException">With the code of the first problem found.</exception>
    public static ArchiveVerification Verify(string path, string? previousPath, IReadOnlyList<X509Certificate2>? trustedRoots, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        using var tokens = trustedRoots is null ? null : new TimeStampTokenVerifier([], trustedRoots, timeProvider);
        var stamps = new List<StampLink>();
        var entries = ReadZip(path);
        var manifest = ReadManifest(entries);
        foreach (var (name, digest) in manifest.Entries)
        {
            if (!entries.TryGetValue(name, out var bytes) || !string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), digest, StringComparison.Ordinal))
            {
                throw new ArchiveException(ArchiveErrors.Malformed, $"{name} is missing or does not match the manifest.");
            }
        }

        if (entries.Keys.Except([Manifest, .. manifest.Entries.Keys], StringComparer.Ordinal).FirstOrDefault() is { } extra)
        {
            throw new ArchiveException(ArchiveErrors.Malformed, $"{extra} is not in the manifest.");
        }

        // The chain and the tree, record by record.
        var heads = ReadDelimited(entries[HeadsEntry], SignedTreeHead.Parser).ToList();
        var headsBySize = heads.ToDictionary(h => (long)TreeHead.Parser.ParseFrom(h.TreeHead).TreeSize);
        var builder = MerkleTreeBuilder.Restore(new FrontierSource(manifest.FromSequence - 1, manifest.Frontier.Select(Convert.FromHexString).ToList()), manifest.FromSequence - 1);
        var sink = new DiscardingSink();
        var previous = Convert.FromHexString(manifest.PreviousRecordHash);
        var expected = manifest.FromSequence;
        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var record in ReadDelimited(entries[RecordsEntry], Record.Parser))
        {
            var entry = AuditEvidence.FromProto(record);
            var computed = MessageLogHash.Compute(hasher, previous, entry.Sequence, entry.Record.At.ToUnixTimeMilliseconds(), entry.Record);
            if ((long)record.Sequence != expected || !computed.AsSpan().SequenceEqual(entry.Hash) || !entry.PreviousHash.AsSpan().SequenceEqual(previous)
                || (entry.Record.Body is { } body && !SHA256.HashData(body).AsSpan().SequenceEqual(entry.Record.BodySha256)))
            {
                throw new ArchiveException(ArchiveErrors.ChainBroken, $"Record {expected} of the archive is missing, out of order or altered.");
            }

            builder.Append(MerkleHash.HashLeaf(entry.Hash), sink);
            if (headsBySize.TryGetValue(builder.Size, out var head))
            {
                var parsed = TreeHead.Parser.ParseFrom(head.TreeHead);
                if (!builder.ComputeRoot().AsSpan().SequenceEqual(parsed.RootHash.Span) || parsed.Node != manifest.Node)
                {
                    throw new ArchiveException(ArchiveErrors.RootMismatch, $"The tree head over {builder.Size} records does not match the archived records.");
                }

                if (CheckHead(head, tokens) is { } stamp)
                {
                    stamps.Add(stamp);
                }
            }

            previous = entry.Hash;
            expected++;
        }

        if (expected != manifest.ToSequence + 1 || !Convert.ToHexStringLower(previous).Equals(manifest.LastRecordHash, StringComparison.Ordinal)
            || manifest.TreeHeadSizes.Any(size => size < manifest.FromSequence || size > manifest.ToSequence))
        {
            throw new ArchiveException(ArchiveErrors.ChainBroken, $"The archive should end at record {manifest.ToSequence} with its manifest's last hash.");
        }

        if (previousPath is not null)
        {
            var before = ReadManifest(ReadZip(previousPath));
            var previousSha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(previousPath)));
            if (!string.Equals(previousSha, manifest.PreviousArchiveSha256, StringComparison.Ordinal)
                || before.ToSequence + 1 != manifest.FromSequence
                || !string.Equals(before.LastRecordHash, manifest.PreviousRecordHash, StringComparison.Ordinal))
            {
                throw new ArchiveException(ArchiveErrors.NotLinked, $"{Path.GetFileName(path)} does not follow {Path.GetFileName(previousPath)}.");
            }
        }

        if (tokens is null)
        {
            return new ArchiveVerification(manifest, TokensChecked: false, 0, null, null);
        }

        var (renewals, last) = LogArchiveRenewal.Check(path, stamps, tokens);
        return new ArchiveVerification(manifest, TokensChecked: true, renewals, last,
            last is null ? null : EvidenceRenewal.Warning(Path.GetFileName(path), last, timeProvider.GetUtcNow()));
    }

    /// <summary>The head's signature and, with <paramref name="tokens"/>, its token at its own time: the stamp a renewal extends.</summary>
    private static StampLink? CheckHead(SignedTreeHead head, TimeStampTokenVerifier? tokens)
    {
        bool signed;
        try
        {
            using var signer = X509CertificateLoader.LoadCertificate(head.SignerCertificate.Span);
            using var key = signer.GetECDsaPublicKey();
            signed = key is not null && key.VerifyData(head.TreeHead.Span, head.Signature.Span, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            signed = false;
        }

        var size = TreeHead.Parser.ParseFrom(head.TreeHead).TreeSize;
        var token = tokens?.VerifyTokenForData(head.TimeStampToken.Span, head.TreeHead.Span);
        if (!signed || token is { IsValid: false })
        {
            throw new ArchiveException(ArchiveErrors.HeadInvalid,
                $"The tree head over {size} records has a bad {(signed ? $"time-stamp ({token})" : "signature")}.");
        }

        if (token is null)
        {
            return null;
        }

        using var tsa = token.Signer!;
        return new StampLink($"{HeadsEntry} (tree head {size})", token.GenTime!.Value, EvidenceRenewal.NotAfter(tsa));
    }

    private sealed record PreviousArchive(long ToSequence, byte[] LastHash, byte[] Sha256);

    private static PreviousArchive? LastArchive(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_seq, last_hash, sha256 FROM archives ORDER BY to_seq DESC LIMIT 1;";
        using var reader = command.ExecuteReader();
        return reader.Read() ? new PreviousArchive(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<byte[]>(2)) : null;
    }

    /// <summary>The complete subtrees that make up a tree of <paramref name="size"/> leaves, largest first.</summary>
    private static List<byte[]> Frontier(SqliteConnection connection, long size)
    {
        using var nodes = SqliteMerkleNodes.ForReading(connection, size);
        var frontier = new List<byte[]>();
        for (var level = 62; level >= 0; level--)
        {
            if (((size >> level) & 1) == 1)
            {
                frontier.Add(nodes.GetNode(level, (size >> level) - 1).ToArray());
            }
        }

        return frontier;
    }

    /// <summary>Serves exactly the frontier nodes a builder restored at <c>size</c> asks for.</summary>
    private sealed class FrontierSource(long size, IReadOnlyList<byte[]> frontier) : IMerkleNodeSource
    {
        public long LeafCount => size;

        public ReadOnlySpan<byte> GetNode(int level, long index)
        {
            var position = 0;
            for (var l = 62; l > level; l--)
            {
                position += (int)((size >> l) & 1);
            }

            return ((size >> level) & 1) == 1 && index == (size >> level) - 1 && position < frontier.Count
                ? frontier[position]
                : throw new ArchiveException(ArchiveErrors.Malformed, "The archive's Merkle frontier does not fit its first sequence.");
        }
    }

    private sealed class DiscardingSink : IMerkleNodeSink
    {
        public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
        {
        }
    }

    private static byte[] Zip(SortedDictionary<string, byte[]> entries)
    {
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                var entry = archive.CreateEntry(name, CompressionLevel.Optimal);
                entry.LastWriteTime = EntryTime;
                using var stream = entry.Open();
                stream.Write(bytes);
            }
        }

        return output.ToArray();
    }

    private static Dictionary<string, byte[]> ReadZip(string path)
    {
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            long total = 0;
            foreach (var entry in archive.Entries)
            {
                // Bounded, so a crafted file cannot exhaust memory; names are keys, never paths.
                total += entry.Length;
                if (entry.Length > int.MaxValue / 2 || total > 8L * 1024 * 1024 * 1024 || !entries.TryAdd(entry.FullName, ReadEntry(entry)))
                {
                    throw new ArchiveException(ArchiveErrors.Malformed, $"{entry.FullName} is too large or repeated.");
                }
            }

            return entries;
        }
        catch (InvalidDataException ex)
        {
            throw new ArchiveException(ArchiveErrors.Malformed, $"{Path.GetFileName(path)} is not a readable zip: {ex.Message}");
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream((int)Math.Min(entry.Length, 64 * 1024 * 1024));
        stream.CopyTo(copy);
        return copy.Length == entry.Length ? copy.ToArray() : throw new ArchiveException(ArchiveErrors.Malformed, $"{entry.FullName} is not the size its header says.");
    }

    private static ArchiveManifest ReadManifest(Dictionary<string, byte[]> entries)
    {
        try
        {
            var manifest = entries.TryGetValue(Manifest, out var bytes) && bytes.Length <= MaxManifestBytes ? JsonSerializer.Deserialize<ArchiveManifest>(bytes, Json) : null;
            return manifest is { Format: ArchiveManifest.CurrentFormat } && manifest.Entries.ContainsKey(RecordsEntry) && manifest.Entries.ContainsKey(HeadsEntry)
                ? manifest
                : throw new ArchiveException(ArchiveErrors.Malformed, "The archive has no manifest of a known format.");
        }
        catch (JsonException ex)
        {
            throw new ArchiveException(ArchiveErrors.Malformed, $"The manifest is not valid: {ex.Message}");
        }
    }

    private static IEnumerable<T> ReadDelimited<T>(byte[] bytes, MessageParser<T> parser)
        where T : IMessage<T>
    {
        using var stream = new MemoryStream(bytes, writable: false);
        while (stream.Position < stream.Length)
        {
            T item;
            try
            {
                item = parser.ParseDelimitedFrom(stream);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new ArchiveException(ArchiveErrors.Malformed, $"An archived item does not parse: {ex.Message}");
            }

            yield return item;
        }
    }

    private static long Scalar(SqliteConnection connection, string sql, long parameter)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$p", parameter);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, long a, long b, long? at = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$a", a);
        command.Parameters.AddWithValue("$b", b);
        if (at is { } value)
        {
            command.Parameters.AddWithValue("$at", value);
        }

        return command.ExecuteNonQuery();
    }

    /// <summary>Moves the leaf hashes (SHA-256(0x00 ‖ record hash)) of records about to go into merkle_nodes level 0.</summary>
    private static void KeepLeaves(SqliteConnection connection, SqliteTransaction transaction, long after, long through)
    {
        var leaves = new List<(long Index, byte[] Hash)>();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT seq, hash FROM records WHERE seq > $a AND seq <= $b ORDER BY seq;";
            read.Parameters.AddWithValue("$a", after);
            read.Parameters.AddWithValue("$b", through);
            using var rows = read.ExecuteReader();
            while (rows.Read())
            {
                leaves.Add((rows.GetInt64(0) - 1, MerkleHash.HashLeaf(rows.GetFieldValue<byte[]>(1))));
            }
        }

        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR IGNORE INTO merkle_nodes (level, idx, hash) VALUES (0, $idx, $hash);";
        var index = insert.Parameters.Add("$idx", SqliteType.Integer);
        var hash = insert.Parameters.Add("$hash", SqliteType.Blob);
        foreach (var leaf in leaves)
        {
            index.Value = leaf.Index;
            hash.Value = leaf.Hash;
            insert.ExecuteNonQuery();
        }
    }
}
