// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

/// <summary>Stable codes of what <see cref="Reconciliation"/> finds.</summary>
public static class ReconcileFindings
{
    /// <summary>One node answered (or was answered) and the other has no record of the message at all.</summary>
    public const string MissingOnOtherNode = "Reconcile.MissingOnOtherNode";

    /// <summary>Both logged the request, but not the same signed message (signature or body hash differ).</summary>
    public const string RequestDiffers = "Reconcile.RequestDiffers";

    /// <summary>Both logged the response, but not the same signed message.</summary>
    public const string ResponseDiffers = "Reconcile.ResponseDiffers";

    /// <summary>The provider's node logged a response the client's node has no response record of, or the reverse.</summary>
    public const string ResponseMissing = "Reconcile.ResponseMissing";

    /// <summary>Both logged a file's manifest, but not the same signed manifest.</summary>
    public const string ManifestDiffers = "Reconcile.ManifestDiffers";

    /// <summary>Both logged a file's receipt, but not the same signed receipt.</summary>
    public const string ReceiptDiffers = "Reconcile.ReceiptDiffers";

    /// <summary>One node logged sending a file's manifest or receipt, the other has no record of receiving it (or the reverse).</summary>
    public const string FileRecordMissing = "Reconcile.FileRecordMissing";
}

/// <summary>One message the two logs disagree on; <see cref="Node"/> is the node whose log holds the evidence.</summary>
public sealed record ReconcileDifference(string MessageId, string Code, string Node, long Sequence, string Detail);

public sealed record ReconcileReport(int Exchanges, int Matched, int Unanswered, IReadOnlyList<ReconcileDifference> Differences)
{
    /// <summary>File deliveries between the two nodes (one per file and recipient subsystem) with a receipt on either node.</summary>
    public int FileDeliveries { get; init; }

    /// <summary>Of those, the ones whose manifest and receipt both nodes logged the same.</summary>
    public int FilesMatched { get; init; }

    /// <summary>Manifests one of the two nodes signed that no node has a receipt for yet (in transit, refused or failed).</summary>
    public int FilesUndelivered { get; init; }

    public bool IsConsistent => Differences.Count == 0;
}

/// <summary>
/// Compares two nodes' records of the exchanges between them (xbus audit reconcile). Both logs
/// hold the very same signed envelopes: the client's node logs the request it signed and the
/// response it received, the provider's node the request it received and the response it
/// signed. Equal signatures and body hashes mean the same message (ECDSA signatures are
/// randomised, so two different messages never share one). An exchange counts when its
/// request names one node as sender and the other answered it; a call that was never answered
/// (the provider unreachable, say) need not be on the provider's node, and is only counted.
/// A streamed call is compared link by link in each direction.
/// </summary>
public static class Reconciliation
{
    public static ReconcileReport Compare(string nodeA, IEnumerable<RecordSummary> recordsA, string nodeB, IEnumerable<RecordSummary> recordsB, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(recordsA);
        ArgumentNullException.ThrowIfNull(recordsB);
        var listA = recordsA as IReadOnlyCollection<RecordSummary> ?? [.. recordsA];
        var listB = recordsB as IReadOnlyCollection<RecordSummary> ?? [.. recordsB];
        var a = Group(listA, IsExchange, r => r.MessageId);
        var b = Group(listB, IsExchange, r => r.MessageId);
        var differences = new List<ReconcileDifference>();
        int exchanges = 0, matched = 0, unanswered = 0;
        foreach (var id in a.Keys.Union(b.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var onA = a.GetValueOrDefault(id) ?? [];
            var onB = b.GetValueOrDefault(id) ?? [];

            // Which node was the client and which the provider, from whichever side has the signed headers.
            var all = onA.Concat(onB).ToList();
            var first = all.Min(r => r.At.ToDateTimeOffset());
            if (first < from || first >= to)
            {
                continue;
            }

            var clientNode = all.FirstOrDefault(r => Is(r, MessageDirection.ClientRequest) || Is(r, MessageDirection.ProviderRequest))?.SenderNode;
            var providerNode = all.FirstOrDefault(r => (Is(r, MessageDirection.ProviderResponse) || Is(r, MessageDirection.ClientResponse)) && r.SenderNode.Length > 0)?.SenderNode;
            var between = (clientNode == nodeA && providerNode == nodeB) || (clientNode == nodeB && providerNode == nodeA);
            var answeredOnClientSide = all.Any(r => Is(r, MessageDirection.ClientResponse) && r.Status == MessageLogRecord.StatusOk);
            if (!between)
            {
                if (providerNode is null && (clientNode == nodeA || clientNode == nodeB) && !answeredOnClientSide)
                {
                    unanswered++;
                }

                continue;
            }

            exchanges++;
            var client = clientNode == nodeA ? onA : onB;
            var provider = clientNode == nodeA ? onB : onA;
            var clientName = clientNode!;
            var providerName = providerNode!;
            var before = differences.Count;
            if (client.Count == 0 || provider.Count == 0)
            {
                var holder = client.Count == 0 ? provider : client;
                differences.Add(new ReconcileDifference(id, ReconcileFindings.MissingOnOtherNode, client.Count == 0 ? providerName : clientName, (long)holder[0].Sequence,
                    $"{(client.Count == 0 ? clientName : providerName)} has no record of this exchange"));
                continue;
            }

            Match(id, Find(client, MessageDirection.ClientRequest), clientName, Find(provider, MessageDirection.ProviderRequest), providerName, ReconcileFindings.RequestDiffers, ReconcileFindings.ResponseMissing, differences);
            Match(id, Find(provider, MessageDirection.ProviderResponse), providerName, Find(client, MessageDirection.ClientResponse), clientName, ReconcileFindings.ResponseDiffers, ReconcileFindings.ResponseMissing, differences);
            if (differences.Count == before)
            {
                MatchLaterLinks(id, client, MessageDirection.ClientRequest, clientName, provider, MessageDirection.ProviderRequest, providerName, ReconcileFindings.RequestDiffers, differences);
                MatchLaterLinks(id, provider, MessageDirection.ProviderResponse, providerName, client, MessageDirection.ClientResponse, clientName, ReconcileFindings.ResponseDiffers, differences);
            }

            if (differences.Count == before)
            {
                matched++;
            }
        }

        var files = CompareFiles(nodeA, listA, nodeB, listB, from, to, differences);
        return new ReconcileReport(exchanges, matched, unanswered, differences)
        {
            FileDeliveries = files.Deliveries, FilesMatched = files.Matched, FilesUndelivered = files.Undelivered,
        };
    }

    /// <summary>
    /// File deliveries, one per (file id, sender subsystem, recipient's receive service): the
    /// sender's node logs the manifest it signed and the receipt it got back, the recipient's node
    /// the manifest it took and the receipt it signed; the pairs must be the same signed
    /// documents. The sender's node is named in the manifest's signed header, the recipient's in
    /// the receipt's; a delivery with no receipt on either node is only counted.
    /// </summary>
    private static (int Deliveries, int Matched, int Undelivered) CompareFiles(
        string nodeA, IEnumerable<RecordSummary> recordsA, string nodeB, IEnumerable<RecordSummary> recordsB, DateTimeOffset from, DateTimeOffset to, List<ReconcileDifference> differences)
    {
        static string Key(RecordSummary r) => string.Join('\n', r.MessageId, r.Client, r.Service);
        var a = Group(recordsA, IsFileDelivery, Key);
        var b = Group(recordsB, IsFileDelivery, Key);
        int deliveries = 0, matched = 0, undelivered = 0;
        foreach (var key in a.Keys.Union(b.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var onA = a.GetValueOrDefault(key) ?? [];
            var onB = b.GetValueOrDefault(key) ?? [];
            var all = onA.Concat(onB).ToList();
            var first = all.Min(r => r.At.ToDateTimeOffset());
            if (first < from || first >= to)
            {
                continue;
            }

            var id = all[0].MessageId;
            var senderNode = all.FirstOrDefault(r => (Is(r, MessageDirection.FileManifestSent) || Is(r, MessageDirection.FileManifestReceived)) && r.SenderNode.Length > 0)?.SenderNode;
            var recipientNode = all.FirstOrDefault(r => (Is(r, MessageDirection.FileReceiptSent) || Is(r, MessageDirection.FileReceiptReceived)) && r.SenderNode.Length > 0)?.SenderNode;
            if (!((senderNode == nodeA && recipientNode == nodeB) || (senderNode == nodeB && recipientNode == nodeA)))
            {
                if (recipientNode is null && (senderNode == nodeA || senderNode == nodeB))
                {
                    undelivered++;
                }

                continue;
            }

            deliveries++;
            var sender = senderNode == nodeA ? onA : onB;
            var recipient = senderNode == nodeA ? onB : onA;
            if (sender.Count == 0 || recipient.Count == 0)
            {
                var holder = sender.Count == 0 ? recipient : sender;
                differences.Add(new ReconcileDifference(id, ReconcileFindings.MissingOnOtherNode, sender.Count == 0 ? recipientNode! : senderNode!, (long)holder[0].Sequence,
                    $"{(sender.Count == 0 ? senderNode : recipientNode)} has no record of this file delivery ({holder[0].Service})"));
                continue;
            }

            var before = differences.Count;
            Match(id, Find(sender, MessageDirection.FileManifestSent), senderNode!, Find(recipient, MessageDirection.FileManifestReceived), recipientNode!,
                ReconcileFindings.ManifestDiffers, ReconcileFindings.FileRecordMissing, differences);
            Match(id, Find(recipient, MessageDirection.FileReceiptSent), recipientNode!, Find(sender, MessageDirection.FileReceiptReceived), senderNode!,
                ReconcileFindings.ReceiptDiffers, ReconcileFindings.FileRecordMissing, differences);
            if (differences.Count == before)
            {
                matched++;
            }
        }

        return (deliveries, matched, undelivered);
    }

    private static void Match(
        string id, RecordSummary? sender, string senderNode, RecordSummary? receiver, string receiverNode, string differsCode, string missingCode, List<ReconcileDifference> differences)
    {
        // What the sender signed must be what the receiver logged; a receiver's refusal of an
        // authentic message is logged with its code and no signed copy, so only signed pairs compare.
        var senderSigned = sender is not null && !sender.Signature.IsEmpty;
        var receiverSigned = receiver is not null && !receiver.Signature.IsEmpty && receiver.Status == MessageLogRecord.StatusOk;
        if (senderSigned && receiverSigned)
        {
            if (!sender!.Signature.Equals(receiver!.Signature) || !sender.BodySha256.Equals(receiver.BodySha256))
            {
                differences.Add(new ReconcileDifference(id, differsCode, receiverNode, (long)receiver.Sequence,
                    $"record {receiver.Sequence} on {receiverNode} is not the message {senderNode} logged as record {sender.Sequence}"));
            }
        }
        else if (senderSigned && sender!.Status == MessageLogRecord.StatusOk && receiver is null)
        {
            differences.Add(new ReconcileDifference(id, missingCode, senderNode, (long)sender.Sequence,
                $"{senderNode} logged record {sender.Sequence}, {receiverNode} has no record of receiving it"));
        }
        else if (receiverSigned && sender is null)
        {
            differences.Add(new ReconcileDifference(id, missingCode, receiverNode, (long)receiver!.Sequence,
                $"{receiverNode} logged receiving it as record {receiver.Sequence}, {senderNode} has no record of sending it"));
        }
    }

    /// <summary>
    /// A streamed call's links after the first (docs/design/agency-protocols.md, "The four call
    /// kinds"): each node logs a direction's links in chain order, the sender before it sends one,
    /// so the receiver's i-th signed link must be the sender's i-th. The first pair that differs is
    /// named (a link missing in the middle shifts every one after it). The receiver may hold fewer
    /// (the call ended before it read the rest, or it refused one), never more.
    /// </summary>
    private static void MatchLaterLinks(
        string id, List<RecordSummary> senderRecords, MessageDirection sent, string senderNode, List<RecordSummary> receiverRecords, MessageDirection received, string receiverNode,
        string differsCode, List<ReconcileDifference> differences)
    {
        var sender = SignedLinks(senderRecords, sent);
        var receiver = SignedLinks(receiverRecords, received);
        for (var i = 1; i < receiver.Count; i++)
        {
            if (i >= sender.Count)
            {
                differences.Add(new ReconcileDifference(id, ReconcileFindings.ResponseMissing, receiverNode, (long)receiver[i].Sequence,
                    $"{receiverNode} logged receiving link {i} as record {receiver[i].Sequence}, {senderNode} has no record of sending it"));
                return;
            }

            if (!sender[i].Signature.Equals(receiver[i].Signature) || !sender[i].BodySha256.Equals(receiver[i].BodySha256))
            {
                differences.Add(new ReconcileDifference(id, differsCode, receiverNode, (long)receiver[i].Sequence,
                    $"link {i}: record {receiver[i].Sequence} on {receiverNode} is not the message {senderNode} logged as record {sender[i].Sequence}"));
                return;
            }
        }
    }

    private static List<RecordSummary> SignedLinks(List<RecordSummary> records, MessageDirection direction) =>
        [.. records.Where(r => Is(r, direction) && !r.Signature.IsEmpty && r.Status == MessageLogRecord.StatusOk).OrderBy(r => r.Sequence)];

    /// <summary>The record of that direction, a signed accepted one first (a file's manifest may have been refused on earlier attempts).</summary>
    private static RecordSummary? Find(List<RecordSummary> records, MessageDirection direction) =>
        records.Where(r => Is(r, direction)).OrderByDescending(r => r.Status == MessageLogRecord.StatusOk && !r.Signature.IsEmpty).FirstOrDefault();

    private static bool Is(RecordSummary record, MessageDirection direction) => record.Direction == (uint)direction;

    private static bool IsExchange(RecordSummary r) => r.Direction is >= (uint)MessageDirection.ClientRequest and <= (uint)MessageDirection.ProviderResponse;

    private static bool IsFileDelivery(RecordSummary r) => r.Direction is >= (uint)MessageDirection.FileManifestSent and <= (uint)MessageDirection.FileReceiptReceived;

    private static Dictionary<string, List<RecordSummary>> Group(IEnumerable<RecordSummary> records, Func<RecordSummary, bool> keep, Func<RecordSummary, string> key)
    {
        var result = new Dictionary<string, List<RecordSummary>>(StringComparer.Ordinal);
        foreach (var record in records.Where(keep))
        {
            var k = key(record);
            if (!result.TryGetValue(k, out var list))
            {
                result[k] = list = [];
            }

            list.Add(record);
        }

        return result;
    }
}
