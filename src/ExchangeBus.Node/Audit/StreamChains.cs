// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Node.Audit;

/// <summary>One record of an exchange as the chain check sees it: a link (its header streamed) or the unsigned outcome of a failed call (no header).</summary>
internal sealed record StreamRecord<T>(T Source, MessageDirection Direction, MessageHeader? Header, byte[] HeaderBytes, byte[] BodySha256);

/// <summary>What is wrong with a chain: a code of <see cref="MessageLogProblems"/> and the record it was found at.</summary>
internal sealed record StreamChainProblem<T>(string Code, T At, string Message);

/// <summary>
/// The chains of one streamed exchange as one node logged them (docs/audit.md, "Streamed calls"),
/// for what holds a set of its records rather than a whole log (an evidence bundle, a trail). A
/// record proves itself (signature, inclusion); that the records are the whole stream only the
/// chain proves: per side (the client's node's records, or the provider's) and direction, the
/// links in log order are at positions 0, 1, … each naming the hash of the link before
/// (<see cref="StreamLink"/>, the log verifier's rule), and the chain is closed by its end record
/// (the request chain also by the RESPONSE_END, as a provider may end the call first; both by the
/// unsigned outcome record of a failed call). With the whole set at hand, a link ahead of its
/// place whose missing link comes later is StreamOutOfOrder, not StreamGap; a chain without its
/// end is StreamGap (truncated). check-record.py's "streams" is the same rule in python.
/// </summary>
internal static class StreamChains
{
    /// <summary>The record as a link or an outcome, or null when it is neither (a unary message, a record of no exchange, a header that does not parse).</summary>
    public static StreamRecord<T>? Read<T>(T source, MessageDirection direction, byte[] header, byte[] bodySha256, string status)
    {
        if (direction is not (MessageDirection.ClientRequest or MessageDirection.ClientResponse or MessageDirection.ProviderRequest or MessageDirection.ProviderResponse))
        {
            return null;
        }

        if (header.Length == 0)
        {
            return string.Equals(status, MessageLogRecord.StatusOk, StringComparison.Ordinal) ? null : new(source, direction, null, header, bodySha256);
        }

        try
        {
            var parsed = MessageHeader.Parser.ParseFrom(header);
            return parsed.Streamed ? new(source, direction, parsed, header, bodySha256) : null;
        }
        catch (InvalidProtocolBufferException)
        {
            // Not a header: the record's own checks say so.
            return null;
        }
    }

    /// <summary>
    /// Every chain problem of <paramref name="records"/> (one exchange, one or both nodes' sides, in
    /// sequence order), at most one a chain.
    /// </summary>
    public static List<StreamChainProblem<T>> Check<T>(IReadOnlyList<StreamRecord<T>> records)
    {
        var problems = new List<StreamChainProblem<T>>();
        foreach (var (request, response) in new[]
        {
            (MessageDirection.ClientRequest, MessageDirection.ClientResponse),
            (MessageDirection.ProviderRequest, MessageDirection.ProviderResponse),
        })
        {
            var side = records.Where(l => l.Direction == request || l.Direction == response).ToList();
            if (side.FirstOrDefault(l => l.Header is not null) is not { } first)
            {
                continue;
            }

            var failed = side.Any(l => l.Header is null);
            var responseEnded = CheckChain(side, response, failed, endedByResponse: false, first.Source, problems);
            CheckChain(side, request, failed, responseEnded, first.Source, problems);
        }

        return problems;
    }

    /// <summary>Checks one chain; true when its own end record closed it (or a problem was found in it).</summary>
    private static bool CheckChain<T>(List<StreamRecord<T>> side, MessageDirection direction, bool failed, bool endedByResponse, T sideFirst, List<StreamChainProblem<T>> problems)
    {
        var chain = side.Where(l => l.Direction == direction && l.Header is not null).ToList();
        var link = StreamLink.Start;
        var last = sideFirst;
        for (var i = 0; i < chain.Count; i++)
        {
            var header = chain[i].Header!;
            var position = header.StreamPosition;
            var problem = link.Problem(header);
            if (problem == MessageLogProblems.StreamGap && chain.Any(l => l.Header!.StreamPosition == link.Next))
            {
                // The missing link is here, later: the order is wrong, nothing is missing.
                problem = MessageLogProblems.StreamOutOfOrder;
            }

            if (problem is not null)
            {
                problems.Add(new(problem, chain[i].Source, problem switch
                {
                    MessageLogProblems.StreamGap => $"Link {position} of the {direction} chain, but link {link.Next} is missing: a message of the stream was removed, or never logged.",
                    MessageLogProblems.StreamOutOfOrder => $"Link {position} of the {direction} chain comes where link {link.Next} should: the links are not in the order they were sent.",
                    _ => $"Link {position} of the {direction} chain does not name the hash of the link before it: it is not of this stream.",
                }));
                return true;
            }

            if (StreamLink.Ends(header))
            {
                if (i != chain.Count - 1)
                {
                    problems.Add(new(MessageLogProblems.StreamOutOfOrder, chain[i + 1].Source, $"A link of the {direction} chain after its end record (link {position})."));
                }

                return true;
            }

            link = link.After(chain[i].HeaderBytes, chain[i].BodySha256);
            last = chain[i].Source;
        }

        if (!failed && !endedByResponse)
        {
            problems.Add(new(MessageLogProblems.StreamGap, last, chain.Count == 0
                ? $"The streamed exchange has no {direction} link: that direction is missing."
                : $"The {direction} chain ends at link {link.Next - 1} without its end record: the stream is truncated (or was still open when these records were read)."));
        }

        return false;
    }
}
