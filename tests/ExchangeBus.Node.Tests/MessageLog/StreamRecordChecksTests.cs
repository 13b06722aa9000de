// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.MessageLog;

/// <summary>
/// The stream checks of log verification (docs/audit.md, "Streamed calls"), on logs whose own
/// hash chain is intact, as a log rewritten by someone with write access would be: a response
/// stream with a link cut, two links swapped, or a link from another stream is found with its
/// own code at the right record; a complete stream, a failed one, and a provider that ended the
/// call before the client half-closed pass.
/// </summary>
public sealed class StreamRecordChecksTests
{
    private TempLogFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task CompleteStreams_Verify()
    {
        var first = Stream("call-1", MessageDirection.ClientResponse, messages: 3);
        var second = Stream("call-2", MessageDirection.ClientResponse, messages: 2);
        // Interleaved, as two calls at once are logged.
        await WriteAsync(first[0], second[0], first[1], second[1], first[2], second[2], first[3]);

        Assert.That(Verify().IsValid, Is.True, Verify().Detail);
    }

    [Test]
    public async Task ResponseChainStartingWithItsHeadersLink_Verifies()
    {
        var requests = Stream("call-1", MessageDirection.ProviderRequest, messages: 1);
        var responses = Stream("call-1", MessageDirection.ProviderResponse, messages: 3, headersAt: 0);
        await WriteAsync([.. requests, .. responses]);

        Assert.That(Verify().IsValid, Is.True, Verify().Detail);
    }

    [Test]
    public async Task HeadersLinkAfterAMessage_Found()
    {
        var responses = Stream("call-1", MessageDirection.ClientResponse, messages: 3, headersAt: 1);
        await WriteAsync([.. responses]);

        AssertProblem(MessageLogProblems.StreamOutOfOrder, 2);
    }

    [Test]
    public async Task ResponseEndedBeforeTheRequestChain_Verifies()
    {
        var requests = Stream("call-1", MessageDirection.ClientRequest, messages: 2, ended: false);
        var responses = Stream("call-1", MessageDirection.ClientResponse, messages: 1);
        await WriteAsync([.. requests, .. responses]);

        Assert.That(Verify().IsValid, Is.True, Verify().Detail);
    }

    [Test]
    public async Task FailedStream_ClosedByItsOutcomeRecord_Verifies()
    {
        var responses = Stream("call-1", MessageDirection.ClientResponse, messages: 2, ended: false);
        await WriteAsync([.. responses, Records.Make("call-1", MessageDirection.ClientResponse, status: "Server.ClientProxy.InvalidResponse") with { Header = [], Signature = [] }]);

        Assert.That(Verify().IsValid, Is.True, Verify().Detail);
    }

    [Test]
    public async Task LastMessageCut_TheEndRecordShowsTheGap()
    {
        var links = Stream("call-1", MessageDirection.ClientResponse, messages: 3);
        await WriteAsync(links[0], links[1], links[3]);

        AssertProblem(MessageLogProblems.StreamGap, 3);
    }

    [Test]
    public async Task FirstLinkCut_Found()
    {
        var links = Stream("call-1", MessageDirection.ProviderResponse, messages: 2);
        await WriteAsync(links[1], links[2]);

        AssertProblem(MessageLogProblems.StreamGap, 1);
    }

    [Test]
    public async Task TwoLinksSwapped_Found()
    {
        var links = Stream("call-1", MessageDirection.ClientResponse, messages: 3);
        await WriteAsync(links[0], links[2], links[1], links[3]);

        AssertProblem(MessageLogProblems.StreamGap, 2);
    }

    [Test]
    public async Task LinkRepeated_Found()
    {
        var links = Stream("call-1", MessageDirection.ClientResponse, messages: 3);
        await WriteAsync(links[0], links[1], links[1], links[2], links[3]);

        AssertProblem(MessageLogProblems.StreamOutOfOrder, 3);
    }

    [Test]
    public async Task LinkSplicedFromAnotherStream_Found()
    {
        var links = Stream("call-1", MessageDirection.ClientResponse, messages: 3);
        var other = Stream("call-1", MessageDirection.ClientResponse, messages: 3, seed: "other");
        await WriteAsync(links[0], other[1], links[2], links[3]);

        AssertProblem(MessageLogProblems.StreamBroken, 2);
    }

    /// <summary>
    /// One chain of a streamed call as the node logs it: <paramref name="messages"/> links then,
    /// if <paramref name="ended"/>, the end record; each names the hash of the one before. The link
    /// at <paramref name="headersAt"/> (if any) is a response-headers link.
    /// </summary>
    private static List<MessageLogRecord> Stream(string messageId, MessageDirection direction, int messages, bool ended = true, string seed = "", int headersAt = -1)
    {
        var request = direction is MessageDirection.ClientRequest or MessageDirection.ProviderRequest;
        var records = new List<MessageLogRecord>();
        var previous = Array.Empty<byte>();
        for (var position = 0; position < messages + (ended ? 1 : 0); position++)
        {
            var end = position == messages;
            var header = new MessageHeader
            {
                Kind = end ? (request ? MessageKind.RequestEnd : MessageKind.ResponseEnd)
                    : position == headersAt ? MessageKind.ResponseHeaders
                    : (request ? MessageKind.Request : MessageKind.Response),
                MessageId = messageId,
                Client = "VN/GOV/000.00.00.G01/dossier",
                Service = "VN/GOV/000.00.00.H01/registry/citizenRegistry",
                Streamed = true,
                StreamPosition = (ulong)position,
                PreviousHash = ByteString.CopyFrom(previous),
            };
            if (end && !request)
            {
                header.GrpcStatus = new GrpcStatus();
            }

            var body = end || position == headersAt ? [] : System.Text.Encoding.UTF8.GetBytes($"{seed}message {position}");
            var headerBytes = header.ToByteArray();
            records.Add(Records.Make(messageId, direction) with { Header = headerBytes, Body = body, BodySha256 = SHA256.HashData(body) });
            previous = SHA256.HashData(EnvelopeDigest.FromHashes(SHA256.HashData(headerBytes), SHA256.HashData(body)));
        }

        return records;
    }

    private async Task WriteAsync(params MessageLogRecord[] records)
    {
        await using var log = Records.Open(_folder.LogPath);
        foreach (var record in records)
        {
            await log.AppendAsync(record);
        }
    }

    private MessageLogVerification Verify()
    {
        using var reader = MessageLogReader.Open(_folder.LogPath);
        return reader.Verify();
    }

    private void AssertProblem(string problem, long sequence)
    {
        var result = Verify();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.False);
            Assert.That(result.Problem, Is.EqualTo(problem), result.Detail);
            Assert.That(result.FirstBadSequence, Is.EqualTo(sequence), result.Detail);
        }
    }
}
