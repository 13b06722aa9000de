// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// The chain rule of bundles and trails (StreamChains) on the cases a real call rarely makes: a
/// failed call closed by its outcome record, a provider that ended before the client half-closed,
/// a kind of link the rule does not name, and a link after the end record; seen through the trail.
/// </summary>
public sealed class StreamTrailTests
{
    [Test]
    public void FailedCall_ClosedByItsOutcomeRecord_Verifies_EndedWithItsCode()
    {
        var records = Chain(MessageDirection.ClientRequest, [MessageKind.Request, MessageKind.RequestEnd])
            .Concat(Chain(MessageDirection.ClientResponse, [MessageKind.Response]))
            .Append(new RecordSummary { Direction = (uint)MessageDirection.ClientResponse, Status = "Server.ClientProxy.InvalidResponse" });

        Assert.That(Trail(records), Is.EqualTo(new StreamTrail(1, 1, "Server.ClientProxy.InvalidResponse", ChainVerifies: true)));
    }

    [Test]
    public void ProviderEndedBeforeTheRequestEnd_Verifies()
    {
        var records = Chain(MessageDirection.ProviderRequest, [MessageKind.Request, MessageKind.Request])
            .Concat(Chain(MessageDirection.ProviderResponse, [MessageKind.Response, MessageKind.ResponseEnd]));

        Assert.That(Trail(records), Is.EqualTo(new StreamTrail(2, 1, "OK", ChainVerifies: true)));
    }

    [Test]
    public void AKindTheRuleDoesNotName_IsChainedLikeAMessage()
    {
        var records = Chain(MessageDirection.ClientRequest, [MessageKind.Request, MessageKind.RequestEnd])
            .Concat(Chain(MessageDirection.ClientResponse, [(MessageKind)8, MessageKind.Response, MessageKind.ResponseEnd]));

        Assert.That(Trail(records)!.ChainVerifies, Is.True);
    }

    [Test]
    public void ALinkAfterTheEndRecord_DoesNotVerify()
    {
        var responses = Chain(MessageDirection.ClientResponse, [MessageKind.Response, MessageKind.ResponseEnd, MessageKind.Response]);
        var records = Chain(MessageDirection.ClientRequest, [MessageKind.Request, MessageKind.RequestEnd]).Concat(responses);

        Assert.That(Trail(records)!.ChainVerifies, Is.False);
    }

    [Test]
    public void NoEndRecord_DoesNotVerify_NotEnded()
    {
        var records = Chain(MessageDirection.ClientRequest, [MessageKind.Request, MessageKind.RequestEnd])
            .Concat(Chain(MessageDirection.ClientResponse, [MessageKind.Response, MessageKind.Response]));

        Assert.That(Trail(records), Is.EqualTo(new StreamTrail(1, 2, "not ended", ChainVerifies: false)));
    }

    private static StreamTrail? Trail(IEnumerable<RecordSummary> records)
    {
        var sequence = 0UL;
        var numbered = records.Select(r =>
        {
            r.Sequence = ++sequence;
            r.MessageId = "call-1";
            r.At = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch);
            return r;
        }).ToList();
        return CitizenTrail.Merge([new NodeRecords("node", numbered)]).Single().Stream;
    }

    /// <summary>One direction's links, as the node logs them: each names the hash of the one before.</summary>
    private static List<RecordSummary> Chain(MessageDirection direction, MessageKind[] kinds)
    {
        var links = new List<RecordSummary>();
        var previous = Array.Empty<byte>();
        for (var position = 0; position < kinds.Length; position++)
        {
            var header = new MessageHeader { Kind = kinds[position], MessageId = "call-1", Streamed = true, StreamPosition = (ulong)position, PreviousHash = ByteString.CopyFrom(previous) };
            if (kinds[position] == MessageKind.ResponseEnd)
            {
                header.GrpcStatus = new GrpcStatus();
            }

            var body = SHA256.HashData(BitConverter.GetBytes(position));
            var bytes = header.ToByteArray();
            links.Add(new RecordSummary { Direction = (uint)direction, Status = MessageLogRecord.StatusOk, Header = ByteString.CopyFrom(bytes), BodySha256 = ByteString.CopyFrom(body) });
            previous = SHA256.HashData(EnvelopeDigest.FromHashes(SHA256.HashData(bytes), body));
        }

        return links;
    }
}
