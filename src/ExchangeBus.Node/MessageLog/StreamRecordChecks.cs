// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using Google.Protobuf;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The chains of streamed calls, checked as the log is walked (docs/audit.md, "Streamed calls"):
/// per message id and direction, the links are at positions 0, 1, … with no gap or repeat, each
/// names the hash of the link before it (SHA-256 of its to-be-signed bytes, rebuilt from the
/// record's header and body hash, so a record without its body is checked too), and the end
/// record follows the last message; a response-headers link is link 0 of a response chain (a
/// response chain logged before those links existed starts with a message, and passes). So a stream whose records were cut, reordered or spliced
/// from another is found even where the log's own chain was recomputed over the change.
/// </summary>
/// <remarks>
/// A chain that starts before the range (or before records pruned to archives) is not checked;
/// one still open at the end of the range is a call in flight, or cut off with the log's tail,
/// which the tree heads catch. A failed call's unsigned outcome record closes its chains.
/// </remarks>
internal sealed class StreamRecordChecks(bool fromStart)
{
    private readonly Dictionary<(string MessageId, MessageDirection Direction), StreamLink> _open = [];

    /// <summary>The problem with <paramref name="record"/> as a link, or null (also for a record that is no link).</summary>
    public (string Problem, string Detail)? Check(ScannedRecord record)
    {
        if (!IsExchange(record.Direction))
        {
            return null;
        }

        if (record.Header.IsEmpty)
        {
            if (!record.StatusIsOk && _open.Count > 0)
            {
                Close(record.MessageIdText(), record.Direction);
            }

            return null;
        }

        // Only a header whose streamed field is set is parsed here; any other, or one that does
        // not parse, is no link (the record's signature check reports a header it cannot read).
        if (!record.MaybeStreamed)
        {
            return null;
        }

        MessageHeader header;
        try
        {
            header = MessageHeader.Parser.ParseFrom(record.Header);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }

        if (!header.Streamed)
        {
            return null;
        }

        var sequence = record.Sequence;
        var key = (record.MessageIdText(), record.Direction);
        if (!_open.TryGetValue(key, out var link))
        {
            if (header.StreamPosition != 0)
            {
                return fromStart
                    ? (MessageLogProblems.StreamGap, $"record {sequence} is link {header.StreamPosition} of a stream whose earlier links are not in the log")
                    : null;
            }

            link = StreamLink.Start;
        }

        switch (link.Problem(header))
        {
            case MessageLogProblems.StreamGap:
                return (MessageLogProblems.StreamGap, $"record {sequence} is link {header.StreamPosition} of its stream, but link {link.Next} is missing before it");
            case MessageLogProblems.StreamOutOfOrder:
                return (MessageLogProblems.StreamOutOfOrder, $"record {sequence} is link {header.StreamPosition} of its stream, after link {link.Next - 1}");
            case MessageLogProblems.StreamBroken:
                return (MessageLogProblems.StreamBroken, $"record {sequence}, link {header.StreamPosition} of its stream, does not name the hash of the link before it");
        }

        if (header.Kind == MessageKind.ResponseHeaders && (header.StreamPosition != 0 || record.Direction is not (MessageDirection.ClientResponse or MessageDirection.ProviderResponse)))
        {
            // The backend's headers are link 0 of a response chain, and only there (both nodes refuse them elsewhere).
            return (MessageLogProblems.StreamOutOfOrder, $"record {sequence} is a response-headers link at position {header.StreamPosition} of its stream; they are link 0 of a response chain");
        }

        if (StreamLink.Ends(header))
        {
            _open.Remove(key);
            if (header.Kind == MessageKind.ResponseEnd)
            {
                // The provider may end the call before the client half-closed: that ends both chains.
                Close(key.Item1, record.Direction);
            }

            return null;
        }

        _open[key] = link.After(record.Header, record.BodySha256);
        return null;
    }

    private static bool IsExchange(MessageDirection direction) => direction is MessageDirection.ClientRequest or MessageDirection.ClientResponse
        or MessageDirection.ProviderRequest or MessageDirection.ProviderResponse;

    /// <summary>Both chains of a call on one side of the exchange (the client's or the provider's records).</summary>
    private void Close(string messageId, MessageDirection direction)
    {
        var client = direction is MessageDirection.ClientRequest or MessageDirection.ClientResponse;
        _open.Remove((messageId, client ? MessageDirection.ClientRequest : MessageDirection.ProviderRequest));
        _open.Remove((messageId, client ? MessageDirection.ClientResponse : MessageDirection.ProviderResponse));
    }
}
