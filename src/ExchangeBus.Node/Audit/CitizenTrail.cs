// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

/// <summary>One node's records as its audit API returned them.</summary>
public sealed record NodeRecords(string Node, IReadOnlyList<RecordSummary> Records)
{
    /// <summary>The node's own id, from the records it sent (its requests as a client, its responses as a provider).</summary>
    public static string? Sender(IEnumerable<RecordSummary> records) =>
        records.FirstOrDefault(r => r.Direction is (uint)MessageDirection.ClientRequest or (uint)MessageDirection.ProviderResponse && r.SenderNode.Length > 0)?.SenderNode;
}

/// <summary>One exchange about a citizen, as the nodes that logged it saw it.</summary>
public sealed record TrailEntry(DateTimeOffset At, string MessageId, string Client, string Service, string UserId, string Issue, string Outcome, IReadOnlyList<string> SeenOn);

/// <summary>
/// The citizen's trail (design.md: "the subject id index lets a citizen see which agencies read
/// their data"): every exchange naming the citizen, on every node asked, one line per exchange
/// however many nodes logged it, oldest first.
/// </summary>
public static class CitizenTrail
{
    public static IReadOnlyList<TrailEntry> Merge(IEnumerable<NodeRecords> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var seen = logs
            .SelectMany(log => log.Records.Where(r => r.Direction != (uint)MessageDirection.AuditQuery).Select(record => (log.Node, Record: record)))
            .GroupBy(x => x.Record.MessageId, StringComparer.Ordinal);
        return seen.Select(exchange =>
        {
            var records = exchange.Select(x => x.Record).ToList();
            var first = records.MinBy(r => r.At.ToDateTimeOffset())!;
            var response = records.FirstOrDefault(r => r.Direction is (uint)MessageDirection.ClientResponse or (uint)MessageDirection.ProviderResponse);
            var refused = records.FirstOrDefault(r => r.Status != MessageLogRecord.StatusOk);
            var outcome = refused?.Status ?? (response is null ? "no answer logged" : "answered");
            return new TrailEntry(first.At.ToDateTimeOffset(), exchange.Key, first.Client, first.Service, first.UserId, first.Issue, outcome,
                exchange.Select(x => x.Node).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
        }).OrderBy(e => e.At).ThenBy(e => e.MessageId, StringComparer.Ordinal).ToList();
    }
}
