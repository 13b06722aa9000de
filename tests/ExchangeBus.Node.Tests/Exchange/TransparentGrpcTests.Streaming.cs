// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.MessageLog;
using ExchangeBus.Samples.Citizen.V1;
using Grpc.Core;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// The streaming kinds of transparent gRPC (docs/design/agency-protocols.md, "The four call
/// kinds"): every message crosses as its own signed link of a chain, is logged on both nodes,
/// and the call ends with the provider's signed end record carrying the backend's status.
/// </summary>
public sealed partial class TransparentGrpcTests
{
    private const string SmallService = BusFixture.ProviderSubsystem + "/citizenRegistrySmall";
    private const int SmallLimit = 16;
    private const int FlowMessages = 600;
    private const int FlowMessageBytes = 64 * 1024;
    private const string Citizen = "001099012345";

    /// <summary>A binary header's value: bytes that are not text.</summary>
    private static readonly byte[] BackendBytes = [0xFF, 0, (byte)',', 7];

    private CitizenRegistry.CitizenRegistryClient Stub => new(_local);

    private static DateTime Deadline => DateTime.UtcNow.AddSeconds(60);

    [Test]
    public async Task ListDocuments_ServerStreaming_EveryMessageSignedLoggedChainedAndEnded()
    {
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = Citizen }, Headers(), Deadline);
        var documents = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.That(documents.Select(d => d.DocumentId), Is.EqualTo(new[] { "doc-1", "doc-2", "doc-3" }));
        Assert.That(call.GetStatus().StatusCode, Is.EqualTo(StatusCode.OK));
        Assert.That(call.GetTrailers().GetValue("x-backend-trailer"), Is.EqualTo("kept"));
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;
        foreach (var (node, request, response) in new[]
        {
            (_bus.ClientNode, MessageDirection.ClientRequest, MessageDirection.ClientResponse),
            (_bus.ProviderNode, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse),
        })
        {
            var records = node.Log.FindByMessageId(messageId);
            AssertChain(records, request, [MessageKind.Request, MessageKind.RequestEnd]);
            var ended = AssertChain(records, response, [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
            Assert.That(ended.GrpcStatus.Code, Is.Zero);
            Assert.That(node.Log.Verify().IsValid, Is.True);
        }
    }

    [Test]
    public async Task ListDocuments_AuditVerifyAndQuery_SeeEveryStreamedMessageAndTheEndRecord()
    {
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = Citizen }, Headers(), Deadline);
        await call.ResponseStream.ReadAllAsync().ToListAsync();
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;

        foreach (var node in new[] { _bus.ClientData, _bus.ProviderData[0] })
        {
            using var trust = LogVerifierTrust.Load(node.Paths.DataDirectory, anchorPath: null);
            using var log = MessageLogReader.Open(node.Paths.MessageLog);
            var report = new LogVerifier(log, trust).Verify();
            Assert.That(report.IsValid, Is.True, report.Detail);

            var page = log.Query(new MessageLogQuery { MessageId = messageId });
            var kinds = page.Records.Select(r => MessageHeader.Parser.ParseFrom(r.Header).Kind).ToList();
            Assert.That(kinds, Is.EqualTo(new[] { MessageKind.Request, MessageKind.RequestEnd, MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd }));
            Assert.That(page.Records.All(r => r.Signature.Length > 0), Is.True, "every link is signed");
        }
    }

    [Test]
    public async Task ListDocuments_OneStreamedRecordEditedInTheLogFile_VerificationFails()
    {
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = Citizen }, Headers(), Deadline);
        await call.ResponseStream.ReadAllAsync().ToListAsync();
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;
        var second = _bus.ProviderNode.Log.FindByMessageId(messageId)
            .Where(e => e.Record.Direction == MessageDirection.ProviderResponse).ElementAt(1).Sequence;

        // A copy of the live log (the fixture's nodes keep running), one response link's body edited.
        using var folder = new TempLogFolder();
        Records.Tamper(_bus.ProviderData[0].Paths.MessageLog, "VACUUM INTO $copy;", ("$copy", folder.LogPath));
        Records.Tamper(folder.LogPath, "UPDATE records SET body = zeroblob(length(body)) WHERE seq = $seq;", ("$seq", second));

        using var trust = LogVerifierTrust.Load(_bus.ProviderData[0].Paths.DataDirectory, anchorPath: null);
        using var log = MessageLogReader.Open(folder.LogPath);
        var report = new LogVerifier(log, trust).Verify();
        Assert.That(report.IsValid, Is.False);
        Assert.That(report.Problem, Is.EqualTo(MessageLogProblems.BodyHashMismatch));
        Assert.That(report.Sequence, Is.EqualTo(second));
    }

    [Test]
    public async Task UploadDocuments_ClientStreaming_RequestChainEndsAtTheHalfClose()
    {
        using var call = Stub.UploadDocuments(Headers(), Deadline);
        foreach (var id in new[] { "a", "b", "c" })
        {
            await call.RequestStream.WriteAsync(new Document { DocumentId = id, Kind = "passport" });
        }

        await call.RequestStream.CompleteAsync();
        var receipt = await call.ResponseAsync;

        Assert.That(receipt.Count, Is.EqualTo(3));
        Assert.That(receipt.DocumentIds, Is.EqualTo(new[] { "a", "b", "c" }));
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;
        var records = _bus.ProviderNode.Log.FindByMessageId(messageId);
        AssertChain(records, MessageDirection.ProviderRequest, [MessageKind.Request, MessageKind.Request, MessageKind.Request, MessageKind.RequestEnd]);
        AssertChain(records, MessageDirection.ProviderResponse, [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.ResponseEnd]);
    }

    [Test]
    public async Task Converse_Bidirectional_EachAnswerArrivesBeforeTheNextQuestion()
    {
        using var call = Stub.Converse(Headers(), Deadline);
        var answers = new List<string>();
        foreach (var text in new[] { "name?", "province?", "born?" })
        {
            // Ping-pong: the next question is written only after the answer to this one came back.
            await call.RequestStream.WriteAsync(new Question { CitizenId = Citizen, Text = text });
            Assert.That(await call.ResponseStream.MoveNext(), Is.True);
            answers.Add(call.ResponseStream.Current.Text);
        }

        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(), Is.False);

        Assert.That(answers, Is.EqualTo(new[] { "answer to name?", "answer to province?", "answer to born?" }));
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;
        var records = _bus.ClientNode.Log.FindByMessageId(messageId);
        AssertChain(records, MessageDirection.ClientRequest, [MessageKind.Request, MessageKind.Request, MessageKind.Request, MessageKind.RequestEnd]);
        AssertChain(records, MessageDirection.ClientResponse, [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
    }

    [Test]
    public async Task ListDocuments_BackendFailsMidStream_MessagesSoFarThenItsStatusFromTheProvider()
    {
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = "fails-after-2" }, Headers(), Deadline);
        var received = new List<string>();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var document in call.ResponseStream.ReadAllAsync())
            {
                received.Add(document.DocumentId);
            }
        });

        Assert.That(received, Is.EqualTo(new[] { "doc-1", "doc-2" }));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.Status.Detail, Is.EqualTo("Archive went away."));
        Assert.That(ex.Trailers.GetValue(TransparentGrpc.ErrorSourceTrailer), Is.EqualTo("provider"));
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;
        var ended = AssertChain(_bus.ClientNode.Log.FindByMessageId(messageId), MessageDirection.ClientResponse, [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
        Assert.That(ended.GrpcStatus.Code, Is.EqualTo((int)StatusCode.Unavailable), "the backend's error is the signed end of the stream");
    }

    [Test]
    public async Task ListDocuments_BackendHeadersBeforeAnyMessage_ReachTheCallerFirst_TextAndBinarySigned()
    {
        var afterHeaders = CitizenRegistryBackend.HoldAfterHeaders();
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = "headers-first" }, Headers(), Deadline);

        // The backend sends no message until the caller has its headers: they cross on their own.
        var headers = await call.ResponseHeadersAsync;
        afterHeaders.SetResult();
        var documents = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.That(documents, Has.Count.EqualTo(3));
        Assert.That(headers.GetValue("x-backend-header"), Is.EqualTo("from-backend"));
        Assert.That(headers.GetValueBytes("x-backend-id-bin"), Is.EqualTo(BackendBytes));
        var messageIds = headers.Where(h => h.Key == TransparentGrpc.MessageIdHeader).Select(h => h.Value).ToList();
        Assert.That(messageIds, Has.Count.EqualTo(1));
        Assert.That(messageIds[0], Is.Not.EqualTo("forged"), "the backend cannot set the bus's headers");
        foreach (var (node, direction) in new[] { (_bus.ClientNode, MessageDirection.ClientResponse), (_bus.ProviderNode, MessageDirection.ProviderResponse) })
        {
            var signed = AssertChain(node.Log.FindByMessageId(messageIds[0]), direction,
                [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
            var first = MessageHeader.Parser.ParseFrom(node.Log.FindByMessageId(messageIds[0]).First(r => r.Record.Direction == direction).Record.Header);
            Assert.That(first.Metadata.ToDictionary(), Is.EqualTo(new Dictionary<string, string>
            {
                ["grpc.md.x-backend-header"] = "from-backend",
                ["grpc.md.x-backend-id-bin"] = Convert.ToBase64String(BackendBytes),
            }), "the headers link signs the backend's headers, a binary one as its base64");
            Assert.That(signed.GrpcStatus.Code, Is.Zero);
            Assert.That(node.Log.Verify().IsValid, Is.True);
        }
    }

    [Test]
    public async Task Converse_BinaryHeadersAndTrailersBothWays_PingPongStillAnswered()
    {
        var headers = Headers();
        headers.Add("x-caller-bin", BackendBytes);
        using var call = Stub.Converse(headers, Deadline);
        foreach (var text in new[] { "name?", "born?" })
        {
            await call.RequestStream.WriteAsync(new Question { CitizenId = Citizen, Text = text });
            Assert.That(await call.ResponseStream.MoveNext(), Is.True);
            Assert.That(call.ResponseStream.Current.Text, Is.EqualTo("answer to " + text));
        }

        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(), Is.False);

        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.That(responseHeaders.GetValueBytes("x-echo-bin"), Is.EqualTo(BackendBytes), "the caller's binary header reached the backend, whose own came back");
        Assert.That(call.GetTrailers().GetValueBytes("x-echo-trailer-bin"), Is.EqualTo(BackendBytes));
        var messageId = responseHeaders.GetValue(TransparentGrpc.MessageIdHeader)!;
        var request = MessageHeader.Parser.ParseFrom(_bus.ProviderNode.Log.FindByMessageId(messageId).First(r => r.Record.Direction == MessageDirection.ProviderRequest).Record.Header);
        Assert.That(request.Metadata["grpc.md.x-caller-bin"], Is.EqualTo(Convert.ToBase64String(BackendBytes)));
        AssertChain(_bus.ClientNode.Log.FindByMessageId(messageId), MessageDirection.ClientResponse,
            [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
    }

    [TestCase("fails-at-once", false, Description = "trailers-only: the backend sent no headers")]
    [TestCase("headers-then-fails", true)]
    public async Task ListDocuments_BackendFailsBeforeAnyMessage_HeadersThenItsStatusDetailsAndTrailers(string citizenId, bool backendSentHeaders)
    {
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = citizenId }, Headers(), Deadline);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.ReadAllAsync().ToListAsync());

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(ex.Status.Detail, Is.EqualTo("No documents for that number."));
        Assert.That(ex.GetRpcStatus()!.Details.Single().Unpack<Google.Rpc.ErrorInfo>().Reason, Is.EqualTo("DOCUMENTS_NOT_FOUND"), "the backend's status details, unchanged");
        Assert.That(ex.Trailers.GetValue("x-backend-trailer"), Is.EqualTo("kept"));
        Assert.That(ex.Trailers.GetValueBytes("x-backend-trailer-bin"), Is.EqualTo(BackendBytes));
        Assert.That(ex.Trailers.GetValue(TransparentGrpc.ErrorSourceTrailer), Is.EqualTo("provider"));
        var headers = await call.ResponseHeadersAsync;
        Assert.That(headers.GetValue("x-backend-header"), Is.EqualTo(backendSentHeaders ? "from-backend" : null));
        var messageId = headers.GetValue(TransparentGrpc.MessageIdHeader)!;
        Assert.That(messageId, Is.Not.Null, "a call that ends with no message still has its headers");
        foreach (var (node, direction) in new[] { (_bus.ClientNode, MessageDirection.ClientResponse), (_bus.ProviderNode, MessageDirection.ProviderResponse) })
        {
            var ended = AssertChain(node.Log.FindByMessageId(messageId), direction, [MessageKind.ResponseHeaders, MessageKind.ResponseEnd]);
            Assert.That(ended.GrpcStatus.Code, Is.EqualTo((int)StatusCode.NotFound));
        }
    }

    [Test]
    public async Task ListDocuments_ResponseMessageOverTheServiceLimit_ResourceExhausted()
    {
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = Citizen }, Headers(SmallService), Deadline);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.ReadAllAsync().ToListAsync());

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.MessageTooLarge));
    }

    [Test]
    public async Task UploadDocuments_RequestMessageOverTheServiceLimit_ResourceExhausted()
    {
        using var call = Stub.UploadDocuments(Headers(SmallService), Deadline);
        await call.RequestStream.WriteAsync(new Document { DocumentId = "small" });
        await WriteIgnoringEndAsync(call.RequestStream, new Document { DocumentId = new string('x', SmallLimit * 2) });
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync);

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.MessageTooLarge));
    }

    [Test]
    public async Task ListDocuments_CallerCancels_TheBackendCallIsCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var backendCancelled = CitizenRegistryBackend.ExpectCancellation();
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = "endless" }, Headers(), Deadline, cancel.Token);
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);

        await cancel.CancelAsync();

        // Local call → inter-node call → backend call: the backend's own call token fires.
        Assert.That(await backendCancelled.WaitAsync(TimeSpan.FromSeconds(30)), Is.True);
    }

    [Test]
    public async Task ListDocuments_CallersDeadlinePasses_TheBackendCallEndsToo()
    {
        var backendCancelled = CitizenRegistryBackend.ExpectCancellation();
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = "endless" }, Headers(), DateTime.UtcNow.AddSeconds(3));
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.ReadAllAsync().ToListAsync());

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        // The caller's deadline was the inter-node call's and the backend call's.
        Assert.That(await backendCancelled.WaitAsync(TimeSpan.FromSeconds(30)), Is.True);
    }

    [Test]
    public async Task ListDocuments_SlowReader_HoldsTheBackendsWriterBack()
    {
        var flow = CitizenRegistryBackend.StartFlow();
        using var call = Stub.ListDocuments(new ListDocumentsRequest { CitizenId = "flow" }, Headers(), Deadline);
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);

        // The reader pauses. Each hop awaits its write before reading on, so only the HTTP/2
        // windows between the hops hold messages: the backend's writer must come to a stop long
        // before it has written the whole stream (FlowMessages × 64 KiB = 37.5 MiB).
        var held = await flow.HeldAsync();
        Assert.That(held, Is.LessThan(FlowMessages / 2), "messages the backend wrote while the reader paused");

        var rest = 1;
        while (await call.ResponseStream.MoveNext())
        {
            Assert.That(call.ResponseStream.Current.DocumentId, Is.EqualTo($"doc-{++rest}"));
        }

        Assert.That(rest, Is.EqualTo(FlowMessages), "every message arrives, in order, once the reader goes on");
    }

    /// <summary>The records of one chain, in log order: positions 0, 1, …, each naming the hash of the one before; the last one returned.</summary>
    private static MessageHeader AssertChain(IReadOnlyList<MessageLogEntry> records, MessageDirection direction, MessageKind[] kinds)
    {
        var links = records.Where(r => r.Record.Direction == direction).ToList();
        var headers = links.Select(r => MessageHeader.Parser.ParseFrom(r.Record.Header)).ToList();
        Assert.That(headers.Select(h => h.Kind), Is.EqualTo(kinds), direction.ToString());
        Assert.That(headers.Select(h => (int)h.StreamPosition), Is.EqualTo(Enumerable.Range(0, kinds.Length)));
        for (var i = 1; i < links.Count; i++)
        {
            var before = links[i - 1].Record;
            var expected = System.Security.Cryptography.SHA256.HashData(
                Core.Signing.EnvelopeDigest.FromHashes(System.Security.Cryptography.SHA256.HashData(before.Header), before.BodySha256));
            Assert.That(headers[i].PreviousHash.ToByteArray(), Is.EqualTo(expected), $"link {i} names link {i - 1}");
        }

        return headers[^1];
    }

    private static async Task WriteIgnoringEndAsync<T>(IClientStreamWriter<T> writer, T message)
    {
        try
        {
            await writer.WriteAsync(message);
            await writer.CompleteAsync();
        }
        catch (RpcException)
        {
            // The node may have ended the call already; the response says how.
        }
    }

    private sealed partial class CitizenRegistryBackend
    {
        private static TaskCompletionSource<bool> _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private static FlowProbe _flow = new();
        private static TaskCompletionSource _afterHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static Task<bool> ExpectCancellation()
        {
            _cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _cancelled.Task;
        }

        public static FlowProbe StartFlow() => _flow = new FlowProbe();

        /// <summary>For "headers-first": the backend writes no message until this is set.</summary>
        public static TaskCompletionSource HoldAfterHeaders() => _afterHeaders = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        private static Metadata BackendHeaders() => new()
        {
            { "x-backend-header", "from-backend" },
            { "x-backend-id-bin", BackendBytes },
            { TransparentGrpc.MessageIdHeader, "forged" },
        };

        private static RpcException NoDocuments(ServerCallContext context)
        {
            context.ResponseTrailers.Add("x-backend-trailer-bin", BackendBytes);
            return new Google.Rpc.Status
            {
                Code = (int)Google.Rpc.Code.NotFound,
                Message = "No documents for that number.",
                Details = { Google.Protobuf.WellKnownTypes.Any.Pack(new Google.Rpc.ErrorInfo { Reason = "DOCUMENTS_NOT_FOUND", Domain = "citizen.example" }) },
            }.ToRpcException();
        }

        public override async Task ListDocuments(ListDocumentsRequest request, IServerStreamWriter<Document> responseStream, ServerCallContext context)
        {
            context.ResponseTrailers.Add("x-backend-trailer", "kept");
            switch (request.CitizenId)
            {
                case "endless":
                    var cancelled = _cancelled;
                    try
                    {
                        for (var i = 1; ; i++)
                        {
                            await responseStream.WriteAsync(new Document { DocumentId = $"doc-{i}" }, context.CancellationToken);
                            await Task.Delay(10, context.CancellationToken);
                        }
                    }
                    catch (Exception) when (context.CancellationToken.IsCancellationRequested)
                    {
                        cancelled.TrySetResult(true);
                        throw;
                    }

                case "flow":
                    await _flow.WriteAsync(responseStream, context.CancellationToken);
                    return;
                case "headers-first":
                    await context.WriteResponseHeadersAsync(BackendHeaders());
                    await _afterHeaders.Task.WaitAsync(context.CancellationToken);
                    goto default;
                case "fails-at-once":
                    throw NoDocuments(context);
                case "headers-then-fails":
                    await context.WriteResponseHeadersAsync(BackendHeaders());
                    throw NoDocuments(context);
                case "fails-after-2":
                    await responseStream.WriteAsync(new Document { DocumentId = "doc-1" });
                    await responseStream.WriteAsync(new Document { DocumentId = "doc-2" });
                    throw new RpcException(new Status(StatusCode.Unavailable, "Archive went away."));
                default:
                    for (var i = 1; i <= 3; i++)
                    {
                        await responseStream.WriteAsync(new Document { DocumentId = $"doc-{i}", Kind = "passport", IssuedOn = "2020-01-0" + i });
                    }

                    return;
            }
        }

        public override async Task<UploadReceipt> UploadDocuments(IAsyncStreamReader<Document> requestStream, ServerCallContext context)
        {
            var receipt = new UploadReceipt();
            await foreach (var document in requestStream.ReadAllAsync(context.CancellationToken))
            {
                receipt.Count++;
                receipt.DocumentIds.Add(document.DocumentId);
            }

            return receipt;
        }

        public override async Task Converse(IAsyncStreamReader<Question> requestStream, IServerStreamWriter<Answer> responseStream, ServerCallContext context)
        {
            if (context.RequestHeaders.GetValueBytes("x-caller-bin") is { } echo)
            {
                // Headers before any answer, trailers at the end: the caller's bytes back both ways.
                await context.WriteResponseHeadersAsync(new Metadata { { "x-echo-bin", echo } });
                context.ResponseTrailers.Add("x-echo-trailer-bin", echo);
            }

            await foreach (var question in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(new Answer { Text = "answer to " + question.Text }, context.CancellationToken);
            }
        }
    }

    /// <summary>
    /// The backend's writer for the flow-control test: counts the messages written, and notes the
    /// first write that could not complete because nobody downstream took it.
    /// </summary>
    private sealed class FlowProbe
    {
        private readonly TaskCompletionSource<int> _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _written;

        /// <summary>How many messages were written when the writer was first held back (awaits that moment).</summary>
        public Task<int> HeldAsync() => _held.Task.WaitAsync(TimeSpan.FromSeconds(60));

        public async Task WriteAsync(IServerStreamWriter<Document> responses, CancellationToken cancellationToken)
        {
            var filler = new string('d', FlowMessageBytes);
            for (var i = 1; i <= FlowMessages; i++)
            {
                var write = responses.WriteAsync(new Document { DocumentId = $"doc-{i}", Kind = filler }, cancellationToken);
                if (!write.IsCompleted && i > 1)
                {
                    // A write that has to wait: see whether it is still waiting once the ones
                    // before it have had every chance to drain (the reader is paused, so a
                    // flow-controlled path keeps it waiting for good).
                    var written = _written;
                    if (await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken)) != write)
                    {
                        _held.TrySetResult(written);
                    }
                }

                await write;
                _written = i;
            }

            _held.TrySetResult(_written);
        }
    }
}
