// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

/// <summary>One node's records as its audit API returned them.</summary>
public sealed record NodeRecords(string Node, IReadOnlyList<RecordSummary> Records)
{
    /// <summary>The node's own id, from the records it sent (its requests as a client, its responses as a provider).</summary>
    public static string? Sender(IEnumerable<RecordSummary> records) =>
        records.FirstOrDefault(r => r.Direction is (uint)MessageDirection.ClientRequest or (uint)MessageDirection.ProviderResponse && r.SenderNode.Length > 0)?.SenderNode;
}

/// <summary>
/// One exchange about a citizen, or one file about them delivered to one recipient, as the nodes
/// that logged it saw it. <see cref="Kind"/> is "exchange" or "file"; for a file,
/// <see cref="Service"/> is the recipient's receive service and <see cref="Outcome"/> the latest
/// state logged (accepted, sending, delivered, acknowledged, superseded) or the refusal's code.
/// </summary>
public sealed record TrailEntry(DateTimeOffset At, string MessageId, string Client, string Service, string UserId, string Issue, string Outcome, IReadOnlyList<string> SeenOn, string Kind)
{
    /// <summary>For a streamed call, what its links say; null for a unary exchange or a file.</summary>
    public StreamTrail? Stream { get; init; }
}

/// <summary>
/// A streamed call on a trail: how many messages went each way (end records and the response
/// headers link not counted; as the node that logged the most of them saw it), how it ended
/// ("OK", the backend's gRPC status code, a failed call's refusal code, or "not ended"), and
/// whether every node's chains of it verify (every link in order, none missing or foreign, each
/// chain closed).
/// </summary>
public sealed record StreamTrail(int RequestMessages, int ResponseMessages, string End, bool ChainVerifies);

/// <summary>
/// The citizen's trail (design.md: "the subject id index lets a citizen see which agencies read
/// their data"): every exchange and file naming the citizen, on every node asked, one line per
/// exchange (or per file and recipient) however many nodes logged it, oldest first.
/// </summary>
public static class CitizenTrail
{
    public const string ExchangeKind = "exchange";
    public const string FileKind = "file";

    public static IReadOnlyList<TrailEntry> Merge(IEnumerable<NodeRecords> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var seen = logs
            .SelectMany(log => log.Records.Where(Listed).Select(record => (log.Node, Record: record)))
            .GroupBy(x => IsFile(x.Record) ? string.Join('\n', x.Record.MessageId, x.Record.Client, x.Record.Service) : x.Record.MessageId, StringComparer.Ordinal);
        return seen.Select(group =>
        {
            var records = group.Select(x => x.Record).ToList();
            var first = records.MinBy(r => r.At.ToDateTimeOffset())!;
            var file = IsFile(first);
            return new TrailEntry(first.At.ToDateTimeOffset(), first.MessageId, first.Client, first.Service, first.UserId, first.Issue,
                file ? FileOutcome(records) : ExchangeOutcome(records),
                group.Select(x => x.Node).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                file ? FileKind : ExchangeKind)
            {
                Stream = file ? null : Stream(group.GroupBy(x => x.Node, x => x.Record, StringComparer.Ordinal)),
            };
        }).OrderBy(e => e.At).ThenBy(e => e.MessageId, StringComparer.Ordinal).ToList();
    }

    // A file's acceptance names all its recipients at once; each recipient's line comes from its
    // manifest, receipt and state records, so the acceptance would only repeat them.
    private static bool Listed(RecordSummary r) => r.Direction is not ((uint)MessageDirection.AuditQuery or (uint)MessageDirection.FileAccepted);

    private static bool IsFile(RecordSummary r) => r.Direction >= (uint)MessageDirection.FileAccepted;

    private static string ExchangeOutcome(List<RecordSummary> records)
    {
        var response = records.FirstOrDefault(r => r.Direction is (uint)MessageDirection.ClientResponse or (uint)MessageDirection.ProviderResponse);
        var refused = records.FirstOrDefault(r => r.Status != MessageLogRecord.StatusOk);
        return refused?.Status ?? (response is null ? "no answer logged" : "answered");
    }

    /// <summary>The streamed call's summary from each node's records of it, or null when no record is a link.</summary>
    private static StreamTrail? Stream(IEnumerable<IGrouping<string, RecordSummary>> nodes)
    {
        var logs = nodes
            .Select(node => node.OrderBy(r => r.Sequence)
                .Select(r => StreamChains.Read(r, (MessageDirection)r.Direction, r.Header.ToByteArray(), r.BodySha256.ToByteArray(), r.Status))
                .OfType<StreamRecord<RecordSummary>>().ToList())
            .Where(links => links.Any(l => l.Header is not null))
            .ToList();
        if (logs.Count == 0)
        {
            return null;
        }

        var links = logs.SelectMany(l => l).ToList();
        int Messages(bool request) => logs.Max(log => log.Count(l => l.Header is { } h && !StreamLink.Ends(h) && h.Kind != MessageKind.ResponseHeaders
            && (l.Direction is MessageDirection.ClientRequest or MessageDirection.ProviderRequest) == request));
        var end = links.Select(l => l.Header).FirstOrDefault(h => h?.Kind == MessageKind.ResponseEnd)?.GrpcStatus is { } status
            ? status.Code == 0 ? "OK" : $"gRPC status {status.Code}"
            : links.FirstOrDefault(l => l.Header is null)?.Source.Status ?? "not ended";
        return new StreamTrail(Messages(request: true), Messages(request: false), end, logs.All(log => StreamChains.Check(log).Count == 0));
    }

    private static string FileOutcome(List<RecordSummary> records)
    {
        // State records carry the state's name (or the failure's code) as their status; the
        // signed documents say "ok", or the code when the recipient's node refused the manifest.
        var state = records.Where(r => r.Direction == (uint)MessageDirection.FileState).MaxBy(r => r.At.ToDateTimeOffset());
        var refused = records.FirstOrDefault(r => r.Direction == (uint)MessageDirection.FileManifestReceived && r.Status != MessageLogRecord.StatusOk);
        var receipt = records.Any(r => r.Direction is (uint)MessageDirection.FileReceiptSent or (uint)MessageDirection.FileReceiptReceived);
        return state?.Status ?? refused?.Status ?? (receipt ? "delivered" : "sent, no receipt logged");
    }
}
