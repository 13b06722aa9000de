// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Signing;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Samples.Citizen.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// A misbehaving provider node on a real socket (docs/design/agency-protocols.md, "The four call
/// kinds"): the provider's real node is stopped and its registered peer port taken by a fake
/// Exchange.Stream server holding the provider's own TLS certificate and signing key, so every
/// message it sends verifies. It answers a streamed call with a chain that does not hold; the
/// client node refuses it with <c>InvalidResponse</c>, the caller gets that code, and the client
/// node logs the outcome.
/// </summary>
[NonParallelizable]
public sealed class HostileProviderTests
{
    private BusFixture _bus = null!;
    private NodeKeys _providerKeys = null!;
    private byte[] _providerOcsp = null!;
    private WebApplication _fake = null!;
    private GrpcChannel _local = null!;
    private readonly Misbehaviour _misbehaviour = new();

    /// <summary>What the fake provider does wrong: with the backend's headers (link 0), or after them and one good response message.</summary>
    public enum Fault
    {
        /// <summary>The response chain starts with a message: the backend's headers are missing.</summary>
        NoHeadersRecord,

        /// <summary>A headers record whose signature does not cover what it carries (edited after signing).</summary>
        ForgedHeadersRecord,

        /// <summary>A headers record carrying a body, which would reach the caller unchecked by the chain's kinds.</summary>
        HeadersRecordWithBody,

        /// <summary>A second headers record after a message: headers are link 0 only.</summary>
        HeadersRecordAfterAMessage,

        WrongPreviousHash,
        PositionGap,
        NoEndRecord,
        EndRecordWithBody,

        /// <summary>Not a fault of the chain: good headers and end records whose signed headers and trailers include keys no node may pass on.</summary>
        ForbiddenTrailers,
    }

    internal sealed class Misbehaviour
    {
        public Fault Fault { get; set; }
    }

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _providerOcsp = _bus.ProviderNode.OwnStatus.Current();
        _providerKeys = NodeKeys.Load(_bus.ProviderData[0].Paths);
        await _bus.StopProviderNodeAsync(0);
        _fake = await StartFakeProviderAsync(_bus.ProviderData[0].PeerPort);
        _local = _bus.LocalChannel();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _fake.StopAsync();
        await _fake.DisposeAsync();
        _providerKeys.Dispose();
        await _bus.DisposeAsync();
    }

    [TestCase(Fault.WrongPreviousHash)]
    [TestCase(Fault.PositionGap)]
    [TestCase(Fault.NoEndRecord)]
    [TestCase(Fault.EndRecordWithBody)]
    [TestCase(Fault.HeadersRecordAfterAMessage)]
    public async Task BadResponseChain_CallerGetsInvalidResponse_AndTheClientNodeLogsIt(Fault fault)
    {
        _misbehaviour.Fault = fault;
        using var call = new CitizenRegistry.CitizenRegistryClient(_local).ListDocuments(
            new ListDocumentsRequest { CitizenId = "001099012345" }, CallerHeaders(), DateTime.UtcNow.AddSeconds(30));

        var received = new List<string>();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var document in call.ResponseStream.ReadAllAsync())
            {
                received.Add(document.DocumentId);
            }
        });

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.DataLoss), ex.Status.Detail);
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.InvalidResponse));
        Assert.That(received, Is.EqualTo(new[] { "doc-1" }), "the good first link reaches the caller, nothing after it");
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader);
        Assert.That(messageId, Is.Not.Null);
        var responses = _bus.ClientNode.Log.FindByMessageId(messageId!).Where(r => r.Record.Direction == MessageDirection.ClientResponse).ToList();
        Assert.That(responses.Select(r => r.Record.Status), Is.EqualTo(new[] { MessageLogRecord.StatusOk, MessageLogRecord.StatusOk, NodeErrors.InvalidResponse }),
            "the headers and the good link are logged, then the refusal as the call's outcome");
        Assert.That(_bus.ClientNode.Log.Verify().IsValid, Is.True);
    }

    [TestCase(Fault.NoHeadersRecord, StatusCode.DataLoss)]
    [TestCase(Fault.HeadersRecordWithBody, StatusCode.DataLoss)]
    [TestCase(Fault.ForgedHeadersRecord, StatusCode.PermissionDenied, Description = "a signature that does not verify is refused as for any response")]
    public async Task BadHeadersRecord_NothingReachesTheCaller_InvalidResponse(Fault fault, StatusCode code)
    {
        _misbehaviour.Fault = fault;
        using var call = new CitizenRegistry.CitizenRegistryClient(_local).ListDocuments(
            new ListDocumentsRequest { CitizenId = "001099012345" }, CallerHeaders(), DateTime.UtcNow.AddSeconds(30));

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.ReadAllAsync().ToListAsync());

        Assert.That(ex!.StatusCode, Is.EqualTo(code), ex.Status.Detail);
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.InvalidResponse));
        Assert.That((await call.ResponseHeadersAsync).GetValue("x-from-fake"), Is.Null, "no header of the bad record reaches the caller");

        // The refusal is the client node's last record: the call's outcome, with no response link before it.
        var outcome = _bus.ClientNode.Log.Get(_bus.ClientNode.Log.LastSequence())!.Record;
        Assert.That((outcome.Direction, outcome.Status), Is.EqualTo((MessageDirection.ClientResponse, NodeErrors.InvalidResponse)));
        var responses = _bus.ClientNode.Log.FindByMessageId(outcome.MessageId).Where(r => r.Record.Direction == MessageDirection.ClientResponse);
        Assert.That(responses.Select(r => r.Record.Status), Is.EqualTo(new[] { NodeErrors.InvalidResponse }));
        Assert.That(_bus.ClientNode.Log.Verify().IsValid, Is.True);
    }

    [Test]
    public async Task SignedTrailersTheCallersLibraryWouldRefuse_DroppedByTheClientNode_TheCallEndsOk()
    {
        _misbehaviour.Fault = Fault.ForbiddenTrailers;
        using var call = new CitizenRegistry.CitizenRegistryClient(_local).ListDocuments(
            new ListDocumentsRequest { CitizenId = "001099012345" }, CallerHeaders(), DateTime.UtcNow.AddSeconds(30));
        var documents = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.That(documents.Select(d => d.DocumentId), Is.EqualTo(new[] { "doc-1" }));
        Assert.That(call.GetStatus().StatusCode, Is.EqualTo(StatusCode.OK));
        Assert.That(call.GetTrailers().Select(t => t.Key), Is.EqualTo(new[] { "x-ok" }), "only the trailer that may cross");
        var headers = await call.ResponseHeadersAsync;
        // date and server are the client node's own HTTP server's.
        Assert.That(headers.Select(h => h.Key).Except(["date", "server"]), Is.EquivalentTo(new[] { "x-from-fake", "x-ok-bin", TransparentGrpc.MessageIdHeader }), "only the headers that may cross");
        Assert.That(headers.GetValueBytes("x-ok-bin"), Is.EqualTo(new byte[] { 0, 1, 0xFF }));
        Assert.That(headers.GetValue(TransparentGrpc.MessageIdHeader), Is.Not.EqualTo("forged"));
    }

    private static Metadata CallerHeaders() => new()
    {
        { TransparentGrpc.ClientHeader, BusFixture.ClientSubsystem },
        { TransparentGrpc.ServiceHeader, BusFixture.Service },
    };

    private async Task<WebApplication> StartFakeProviderAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseBusGrpc(new ServerTlsOptions
        {
            ServerCertificate = _providerKeys.Authentication,
            ClientTrust = new CertificateTrust([_bus.Registry.Keys.RootCertificate], TimeProvider.System),
        })));
        builder.Services.AddBusGrpc();
        builder.Services.AddSingleton(new FakeProvider(_providerKeys, _providerOcsp, _bus.ProviderData[0], _misbehaviour));
        var app = builder.Build();
        app.MapGrpcService<FakeProvider>();
        await app.StartAsync();
        return app;
    }

    /// <summary>Answers Exchange.Stream with a good headers link and a good message link, then the fault asked for (or a bad headers link).</summary>
    internal sealed class FakeProvider(NodeKeys keys, byte[] ocsp, BusFixture.EnrolledNode node, Misbehaviour misbehaviour) : ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeBase
    {
        private readonly string _nodeId = NodeSettings.Read(node.Paths.Settings).Node;

        public override async Task Stream(IAsyncStreamReader<SignedEnvelope> requestStream, IServerStreamWriter<SignedEnvelope> responseStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext(context.CancellationToken))
            {
                return;
            }

            var request = requestStream.Current;
            var header = MessageHeader.Parser.ParseFrom(request.Header);
            var requestHash = SHA256.HashData(EnvelopeDigest.Compute(request.Header.Span, request.Body.Span));

            var headers = Link(header, requestHash, MessageKind.ResponseHeaders, position: 0, previous: []);
            headers.Metadata["grpc.md.x-from-fake"] = "yes";
            if (misbehaviour.Fault == Fault.ForbiddenTrailers)
            {
                foreach (var key in new[] { "Not A Key", "x-xbus-error-source", "x-road-id", "grpc-status", "te", "authorization" })
                {
                    headers.Metadata["grpc.md." + key] = "forged";
                }

                headers.Metadata["grpc.md.x-ascii"] = "\r\n";
                headers.Metadata["grpc.md.x-not-base64-bin"] = "*not base64*";
                headers.Metadata["grpc.md.x-ok-bin"] = Convert.ToBase64String([0, 1, 0xFF]);
            }

            var headersEnvelope = Sign(headers, ByteString.Empty, out var headersSigned);
            switch (misbehaviour.Fault)
            {
                case Fault.NoHeadersRecord:
                    await responseStream.WriteAsync(Sign(Link(header, requestHash, MessageKind.Response, 0, []), new Document { DocumentId = "doc-1" }.ToByteString(), out _));
                    return;
                case Fault.ForgedHeadersRecord:
                    headers.Metadata["grpc.md.x-from-fake"] = "edited after signing";
                    headersEnvelope.Header = headers.ToByteString();
                    await responseStream.WriteAsync(headersEnvelope);
                    return;
                case Fault.HeadersRecordWithBody:
                    await responseStream.WriteAsync(Sign(headers, new Document { DocumentId = "smuggled" }.ToByteString(), out _));
                    return;
            }

            await responseStream.WriteAsync(headersEnvelope);
            var first = Link(header, requestHash, MessageKind.Response, position: 1, previous: SHA256.HashData(headersSigned));
            var firstEnvelope = Sign(first, new Document { DocumentId = "doc-1" }.ToByteString(), out var firstSigned);
            await responseStream.WriteAsync(firstEnvelope);
            var previous = SHA256.HashData(firstSigned);

            switch (misbehaviour.Fault)
            {
                case Fault.HeadersRecordAfterAMessage:
                    await responseStream.WriteAsync(Sign(Link(header, requestHash, MessageKind.ResponseHeaders, 2, previous), ByteString.Empty, out _));
                    break;
                case Fault.WrongPreviousHash:
                    await responseStream.WriteAsync(Sign(Link(header, requestHash, MessageKind.Response, 2, SHA256.HashData("spliced"u8)), new Document { DocumentId = "doc-2" }.ToByteString(), out _));
                    break;
                case Fault.PositionGap:
                    await responseStream.WriteAsync(Sign(Link(header, requestHash, MessageKind.Response, 3, previous), new Document { DocumentId = "doc-3" }.ToByteString(), out _));
                    break;
                case Fault.NoEndRecord:
                    // The call ends with an OK status but no signed end record: a truncated answer.
                    break;
                case Fault.EndRecordWithBody:
                    var end = Link(header, requestHash, MessageKind.ResponseEnd, 2, previous);
                    end.GrpcStatus = new GrpcStatus { Code = 0 };
                    await responseStream.WriteAsync(Sign(end, new Document { DocumentId = "smuggled" }.ToByteString(), out _));
                    break;
                case Fault.ForbiddenTrailers:
                    var ended = Link(header, requestHash, MessageKind.ResponseEnd, 2, previous);
                    ended.GrpcStatus = new GrpcStatus { Code = 0 };
                    foreach (var key in new[] { "Not A Key", "x-xbus-error-source", "grpc-status", "te", "x-ok" })
                    {
                        ended.GrpcStatus.Trailers.Add(new GrpcMetadataEntry { Key = key, Value = ByteString.CopyFromUtf8("forged") });
                    }

                    ended.GrpcStatus.Trailers.Add(new GrpcMetadataEntry { Key = "x-ascii", Value = ByteString.CopyFrom(0x0D, 0x0A) });
                    await responseStream.WriteAsync(Sign(ended, ByteString.Empty, out _));
                    break;
            }
        }

        private MessageHeader Link(MessageHeader request, byte[] requestHash, MessageKind kind, ulong position, byte[] previous) => new()
        {
            Kind = kind,
            MessageId = request.MessageId,
            Client = request.Client,
            Service = request.Service,
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            SenderNode = _nodeId,
            RequestHash = ByteString.CopyFrom(requestHash),
            Streamed = true,
            StreamPosition = position,
            PreviousHash = ByteString.CopyFrom(previous),
        };

        private SignedEnvelope Sign(MessageHeader header, ByteString body, out byte[] toBeSigned) =>
            EnvelopeBuilder.Build(header, body, keys.Signer, keys.SigningCertificateDer, ocsp, out toBeSigned);
    }
}
