// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ExchangeBus.Contracts.Audit.V1;

namespace ExchangeBus.Node.Audit;

/// <summary>Stable codes of evidence bundles: one per kind of failure, each naming the file at fault.</summary>
public static class EvidenceBundleErrors
{
    /// <summary>Not a bundle: an unreadable zip, an entry not in the layout, too large, a missing or undecodable file.</summary>
    public const string Malformed = "Bundle.Malformed";

    /// <summary>A file's SHA-256 is not the manifest's, or a file is listed and absent, or present and not listed.</summary>
    public const string ManifestMismatch = "Bundle.ManifestMismatch";

    /// <summary>The record hash recomputed from record.json, header.bin and signature.der is not the record's hash.</summary>
    public const string RecordHashMismatch = "Bundle.RecordHashMismatch";

    /// <summary>body.bin does not hash to the record's body_sha256.</summary>
    public const string BodyHashMismatch = "Bundle.BodyHashMismatch";

    /// <summary>tbs.bin is not SHA-256(header.bin) ‖ body_sha256.</summary>
    public const string TbsMismatch = "Bundle.TbsMismatch";

    /// <summary>signature.der does not verify over tbs.bin with signer.pem's key.</summary>
    public const string SignatureInvalid = "Bundle.SignatureInvalid";

    /// <summary>signer.pem is not the certificate the record names, or not the member that sent the message.</summary>
    public const string SignerMismatch = "Bundle.SignerMismatch";

    /// <summary>A certificate does not chain to the trusted root for its use, or root.pem is not the trusted root.</summary>
    public const string CertificateUntrusted = "Bundle.CertificateUntrusted";

    /// <summary>ocsp.der is missing, not signed by a responder of the CA, not about signer.pem, not fresh at the record's time, or not "good".</summary>
    public const string OcspInvalid = "Bundle.OcspInvalid";

    /// <summary>The inclusion proof does not lead from the record's hash to the head's root.</summary>
    public const string InclusionInvalid = "Bundle.InclusionInvalid";

    /// <summary>head.sig does not verify over head.bin, or its signer is not the member whose node the head names.</summary>
    public const string HeadSignatureInvalid = "Bundle.HeadSignatureInvalid";

    /// <summary>head.tst is not an RFC 3161 token over head.bin (imprint SHA-256), or tsa.pem is not its signer.</summary>
    public const string TimeStampInvalid = "Bundle.TimeStampInvalid";

    /// <summary>Export only: a record is not yet covered by a time-stamped tree head.</summary>
    public const string NotTimeStamped = "Bundle.NotTimeStamped";

    /// <summary>heads/SIZE/renewal-K.tst is not a valid token over head.bin, head.tst and renewals 1 … K−1, or was made before the stamp it renews, or its .tsa.pem is not its signer.</summary>
    public const string RenewalInvalid = "Bundle.RenewalInvalid";

    /// <summary>heads/SIZE/renewal-K.tst was made after the TSA certificate of the stamp it renews had expired: not evidence.</summary>
    public const string RenewalTooLate = "Bundle.RenewalTooLate";
}

/// <summary>
/// An evidence bundle: a zip proving, offline, the records of one exchange a node holds
/// (docs/audit.md, "The bundle"). Every file is plain (DER, PEM, raw bytes, JSON with hex), so an
/// auditor can check the signatures, certificates, OCSP responses and the time-stamp with openssl
/// alone; EvidenceBundleVerifier (ExchangeBus.Audit) checks everything, the record hash and the inclusion
/// proof too. The zip is deterministic — entries sorted, fixed times and modes, no creation time
/// anywhere — so the same evidence always gives the same bytes, and two exports can be compared
/// with a hash.
/// </summary>
public static class EvidenceBundle
{
    public const string Format = "exchangebus-evidence-bundle/1";
    public const string RecordFormat = "exchangebus-evidence-record/1";

    public const string ManifestFile = "manifest.json";
    public const string ReadmeFile = "README.md";
    public const string CheckScriptFile = "check.sh";
    public const string CheckRecordFile = "check-record.py";
    public const string RootFile = "root.pem";

    public const string RecordJson = "record.json";
    public const string HeaderFile = "header.bin";
    public const string BodyFile = "body.bin";
    public const string TbsFile = "tbs.bin";
    public const string SignatureFile = "signature.der";
    public const string SignerFile = "signer.pem";
    public const string OcspFile = "ocsp.der";
    public const string InclusionFile = "inclusion-proof.json";

    public const string HeadFile = "head.bin";
    public const string HeadSignatureFile = "head.sig";
    public const string HeadTokenFile = "head.tst";
    public const string TsaFile = "tsa.pem";

    /// <summary>Zip's earliest representable time; any fixed value would do, this one says "not a real date".</summary>
    internal static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>check-record.py, shipped in every bundle so that no part of the evidence needs xbus to check.</summary>
    private static readonly Lazy<byte[]> CheckRecordScript = new(() =>
    {
        using var stream = typeof(EvidenceBundle).Assembly.GetManifestResourceStream(CheckRecordFile)
            ?? throw new InvalidOperationException($"{CheckRecordFile} is not embedded in the assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    });

    internal static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        // Names such as "Nguyễn Văn An" stay readable; the files are data, never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string RecordFolder(ulong sequence) => "records/" + sequence.ToString(CultureInfo.InvariantCulture) + "/";

    public static string HeadFolder(ulong treeSize) => "heads/" + treeSize.ToString(CultureInfo.InvariantCulture) + "/";

    /// <summary>
    /// The bundle of <paramref name="records"/> (as the audit API's GetRecord gave them), with
    /// <paramref name="roots"/> as root.pem. Every record must be covered by a time-stamped head.
    /// </summary>
    public static byte[] Build(IReadOnlyList<RecordEvidence> records, IReadOnlyList<X509Certificate2> roots) => Write(records, roots, window: null);

    /// <summary>
    /// The bundle of a node's records over a time window (<paramref name="window"/> not null): the
    /// records of many messages, for reconciling with another node's log (docs/audit.md,
    /// "Reconciling from a bundle"). Such a bundle carries no body.bin (bodies are known by
    /// body_sha256, which the record hash and the signature cover): what the comparison needs,
    /// without the citizens' data. Its manifest says so (<c>window</c>, <c>"bodies": false</c>).
    /// </summary>
    public static byte[] BuildWindow(IReadOnlyList<RecordEvidence> records, IReadOnlyList<X509Certificate2> roots, BundleWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return Write(records, roots, window);
    }

    private static byte[] Write(IReadOnlyList<RecordEvidence> records, IReadOnlyList<X509Certificate2> roots, BundleWindow? window)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(roots);
        if (records.Count == 0 || roots.Count == 0)
        {
            throw new ArgumentException("A bundle holds at least one record and one root.", nameof(records));
        }

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var heads = new SortedDictionary<ulong, SignedTreeHead>();
        string? node = null;
        foreach (var evidence in records.OrderBy(r => r.Record.Sequence))
        {
            if (evidence.TreeHead is null || evidence.Inclusion is null)
            {
                throw new ArgumentException($"Record {evidence.Record.Sequence} is not yet covered by a time-stamped tree head.", nameof(records));
            }

            var head = TreeHead.Parser.ParseFrom(evidence.TreeHead.TreeHead);
            node ??= head.Node;
            heads[head.TreeSize] = evidence.TreeHead;
            AddRecord(files, evidence, head.TreeSize, withBody: window is null);
        }

        foreach (var (size, head) in heads)
        {
            AddHead(files, HeadFolder(size), head);
        }

        files[RootFile] = Encoding.ASCII.GetBytes(string.Concat(roots.Select(r => r.ExportCertificatePem() + "\n")));
        var summary = new EvidenceBundleSummary(window is null ? records[0].Record.MessageId : null, node!, [.. records.Select(r => r.Record).OrderBy(r => r.Sequence)], [.. heads.Keys])
        {
            Window = window,
        };
        files[ReadmeFile] = Encoding.UTF8.GetBytes(EvidenceBundleReadme.Readme(summary));
        files[CheckScriptFile] = Encoding.UTF8.GetBytes(EvidenceBundleReadme.CheckScript(summary));
        files[CheckRecordFile] = CheckRecordScript.Value;
        files[ManifestFile] = Manifest(new BundleManifest(summary.MessageId, summary.Node, window), files);
        return Zip(files);
    }

    private static void AddRecord(SortedDictionary<string, byte[]> files, RecordEvidence evidence, ulong headSize, bool withBody)
    {
        var r = evidence.Record;
        var folder = RecordFolder(r.Sequence);
        files[folder + RecordJson] = Json(w =>
        {
            w.WriteString("format", RecordFormat);
            w.WriteNumber("sequence", r.Sequence);
            w.WriteNumber("at_unix_ms", r.AtUnixMs);
            w.WriteString("message_id", r.MessageId);
            w.WriteNumber("direction", r.Direction);
            w.WriteString("client", r.Client);
            w.WriteString("service", r.Service);
            w.WriteString("user_id", r.UserId);
            if (r.SubjectId.Length == 0)
            {
                w.WriteNull("subject_id");
            }
            else
            {
                w.WriteString("subject_id", r.SubjectId);
            }

            w.WriteString("issue", r.Issue);
            w.WriteString("status", r.Status);
            w.WriteBoolean("body_logged", r.BodyLogged);
            w.WriteString("body_sha256", Hex(r.BodySha256.Span));
            if (r.SignerCertificateSha256.IsEmpty)
            {
                w.WriteNull("signer_certificate_sha256");
            }
            else
            {
                w.WriteString("signer_certificate_sha256", Hex(r.SignerCertificateSha256.Span));
            }

            w.WriteString("correlation_id", r.CorrelationId);
            w.WriteString("prev_hash", Hex(r.PrevHash.Span));
            w.WriteString("hash", Hex(r.Hash.Span));
        });
        files[folder + HeaderFile] = r.Header.ToByteArray();
        if (r.BodyLogged && withBody)
        {
            files[folder + BodyFile] = r.Body.ToByteArray();
        }

        if (!r.Signature.IsEmpty)
        {
            files[folder + SignatureFile] = r.Signature.ToByteArray();
            files[folder + TbsFile] = [.. SHA256.HashData(r.Header.Span), .. r.BodySha256.Span];
        }

        if (!evidence.SignerCertificate.IsEmpty)
        {
            files[folder + SignerFile] = Pem(evidence.SignerCertificate.Span);
        }

        if (!evidence.OcspResponse.IsEmpty)
        {
            files[folder + OcspFile] = evidence.OcspResponse.ToByteArray();
        }

        files[folder + InclusionFile] = Json(w =>
        {
            w.WriteNumber("leaf_index", evidence.Inclusion.LeafIndex);
            w.WriteNumber("tree_size", evidence.Inclusion.TreeSize);
            w.WriteString("head", HeadFolder(headSize).TrimEnd('/'));
            w.WriteStartArray("hashes");
            foreach (var hash in evidence.Inclusion.Hashes)
            {
                w.WriteStringValue(Hex(hash.Span));
            }

            w.WriteEndArray();
        });
    }

    private static void AddHead(SortedDictionary<string, byte[]> files, string folder, SignedTreeHead head)
    {
        files[folder + HeadFile] = head.TreeHead.ToByteArray();
        files[folder + HeadSignatureFile] = head.Signature.ToByteArray();
        files[folder + SignerFile] = Pem(head.SignerCertificate.Span);
        files[folder + HeadTokenFile] = head.TimeStampToken.ToByteArray();
        files[folder + TsaFile] = Pem(TokenSigner(head.TimeStampToken.Span));
    }

    /// <summary>The TSA's certificate from inside its token (the node asks with certReq), for openssl's -untrusted.</summary>
    internal static byte[] TokenSigner(ReadOnlySpan<byte> token)
    {
        var cms = new SignedCms();
        cms.Decode(token);
        var signer = cms.SignerInfos.Count == 1 ? cms.SignerInfos[0].Certificate : null;
        return signer?.RawData ?? throw new ArgumentException("The time-stamp token does not carry its TSA certificate.", nameof(token));
    }

    /// <summary>The renewals in head folder <paramref name="folder"/>, in the order of their numbers.</summary>
    internal static List<RenewalToken> RenewalsIn(IReadOnlyDictionary<string, byte[]> files, string folder) =>
        [.. files.Keys
            .Where(k => k.StartsWith(folder + "renewal-", StringComparison.Ordinal) && k.EndsWith(".tst", StringComparison.Ordinal))
            .Select(k => (Name: k, Number: int.Parse(k.AsSpan(folder.Length + "renewal-".Length, k.Length - folder.Length - "renewal-".Length - ".tst".Length), CultureInfo.InvariantCulture)))
            .OrderBy(r => r.Number)
            .Select(r => new RenewalToken(r.Name, files[r.Name], folder + EvidenceRenewal.TsaName(r.Number), files.GetValueOrDefault(folder + EvidenceRenewal.TsaName(r.Number)) ?? []))];

    internal static byte[] Manifest(BundleManifest manifest, SortedDictionary<string, byte[]> files) => Json(w =>
    {
        w.WriteString("format", Format);
        if (manifest.MessageId is null)
        {
            w.WriteNull("message_id");
        }
        else
        {
            w.WriteString("message_id", manifest.MessageId);
        }

        w.WriteString("node", manifest.Node);
        if (manifest.Window is { } window)
        {
            // Written only in a window's bundle, so a bundle of one message keeps its bytes (and its hash) as before.
            w.WriteStartObject("window");
            w.WriteString("from", window.From.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("to", window.To.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            if (window.Peer is null)
            {
                w.WriteNull("peer");
            }
            else
            {
                w.WriteString("peer", window.Peer);
            }

            w.WriteEndObject();
            w.WriteBoolean("bodies", false);
        }

        w.WriteStartObject("sha256");
        foreach (var (name, content) in files)
        {
            w.WriteString(name, Hex(SHA256.HashData(content)));
        }

        w.WriteEndObject();
    });

    /// <summary>What a manifest says besides its files' hashes, as <paramref name="json"/> holds it (older bundles: no window).</summary>
    internal static BundleManifest ReadManifest(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        BundleWindow? window = null;
        if (root.TryGetProperty("window", out var w) && w.ValueKind != JsonValueKind.Null)
        {
            var peer = w.GetProperty("peer");
            window = new BundleWindow(
                DateTimeOffset.Parse(w.GetProperty("from").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                DateTimeOffset.Parse(w.GetProperty("to").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                peer.ValueKind == JsonValueKind.Null ? null : peer.GetString());
        }

        var bodies = !root.TryGetProperty("bodies", out var b) || b.GetBoolean();
        if (window is not null && bodies)
        {
            throw new FormatException("A window's bundle carries no bodies.");
        }

        return new BundleManifest(root.GetProperty("message_id").GetString(), root.GetProperty("node").GetString() ?? throw new FormatException("node is null."), window);
    }

    internal static byte[] Zip(SortedDictionary<string, byte[]> files)
    {
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                var entry = archive.CreateEntry(name, CompressionLevel.Optimal);
                entry.LastWriteTime = EntryTime;
                // A regular file, rw-r--r-- (rwxr-xr-x for the scripts), as a Unix unzip restores it.
                entry.ExternalAttributes = (name is CheckScriptFile or CheckRecordFile ? 0x81ED : 0x81A4) << 16;
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return output.ToArray();
    }

    internal static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static byte[] Pem(ReadOnlySpan<byte> der) => Encoding.ASCII.GetBytes(PemEncoding.WriteString("CERTIFICATE", der) + "\n");
}

/// <summary>What the README and the script of a bundle describe.</summary>
internal sealed record EvidenceBundleSummary(string? MessageId, string Node, IReadOnlyList<Record> Records, IReadOnlyList<ulong> HeadSizes)
{
    /// <summary>Set for a window's bundle: many messages, no bodies.</summary>
    public BundleWindow? Window { get; init; }
}

/// <summary>What manifest.json says besides the hashes: the message (one message's bundle) or the window (a window's bundle, without bodies), and the node.</summary>
internal sealed record BundleManifest(string? MessageId, string Node, BundleWindow? Window);
