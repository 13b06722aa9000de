// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

/// <summary>
/// The records of a node's log that reconciling a window needs (<see cref="Reconciliation"/>):
/// exchanges and file deliveries, with one peer node's member or with anyone, read with
/// <see cref="Margin"/> either side of the window so that an exchange that began inside it is
/// whole on both nodes (the comparison keeps the exchanges that began inside). Bounded: a window
/// that holds more than the caller's limit is refused, never cut, since a cut window would read as
/// records missing on one side.
/// </summary>
public static class LogWindow
{
    /// <summary>As <c>xbus audit reconcile</c> reads: the oldest request a provider accepts.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The records, oldest first. With a peer, only those whose client or service is of the
    /// peer's member: a node serves and calls only for its own member, so every exchange with
    /// that node is among them.
    /// </summary>
    /// <exception cref="ReconcileRefusedException"><see cref="ReconcileErrors.WindowTooLarge"/> past <paramref name="maxRecords"/>.</exception>
    public static List<MessageLogSummary> Read(MessageLogReader reader, BundleWindow window, int maxRecords)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(window);
        string? member = null;
        if (window.Peer is { } peer)
        {
            member = NodeId.TryParse(peer, out var node)
                ? node.Owner.ToString()
                : throw new ReconcileRefusedException(ReconcileErrors.InvalidPeer, $"'{peer}' is not a node identifier (INSTANCE/CLASS/MEMBER/NODE).");
        }

        var query = new MessageLogQuery { From = window.From - Margin, To = window.To + Margin, PartyMember = member, PageSize = MessageLogQuery.MaxPageSize };
        var records = new List<MessageLogSummary>();
        while (true)
        {
            var page = reader.Query(query);
            records.AddRange(page.Records.Where(r => Compared(r.Direction)));
            if (records.Count > maxRecords)
            {
                throw new ReconcileRefusedException(ReconcileErrors.WindowTooLarge,
                    $"The window holds more than {maxRecords} records of exchanges{(member is null ? string.Empty : " with " + member)}: take a shorter one.");
            }

            if (page.Next is not { } next)
            {
                return records;
            }

            query = query with { After = next };
        }
    }

    /// <summary>The kinds of record <see cref="Reconciliation.Compare"/> reads: requests, responses, file manifests and receipts.</summary>
    public static bool Compared(MessageDirection direction) =>
        direction is >= MessageDirection.ClientRequest and <= MessageDirection.ProviderResponse
            or >= MessageDirection.FileManifestSent and <= MessageDirection.FileReceiptReceived;

    /// <summary>The records as the audit API's Query gives them, which the comparison takes.</summary>
    public static IEnumerable<RecordSummary> Summaries(IEnumerable<MessageLogSummary> records) => records.Select(AuditEvidence.ToProto);

    /// <summary>Each record's evidence as the audit API's GetRecord gives it; a record not yet under a time-stamped head has none (<see cref="RecordEvidence.TreeHead"/> null).</summary>
    public static List<RecordEvidence> Evidence(MessageLogReader reader, IEnumerable<MessageLogSummary> records)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(records);
        return [.. records.Select(r => AuditEvidence.ToProto(reader.GetEvidence(r.Sequence)!, reader))];
    }
}
