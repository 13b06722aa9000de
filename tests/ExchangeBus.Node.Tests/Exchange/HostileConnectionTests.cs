// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Http.Headers;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeClient = ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeClient;
using ExchangeBus.Testing;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// A fake node on a real socket, with a valid mutual-TLS certificate, misusing the provider's
/// inter-node listener below the envelope (docs/reliability.md, "Hostile peers"): malformed gRPC
/// frames, a 4 GiB length prefix with a few bytes behind it, a request dripped one byte at a time,
/// and a stream that never ends. Each must be let go without waiting for the attacker (the test
/// gives up at its own deadline, which would fail it), and a good peer is served afterwards.
/// </summary>
[NonParallelizable]
public sealed class HostileConnectionTests
{
    /// <summary>How long the test waits for the node to let go; far past the node's own limits.</summary>
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan DripInterval = TimeSpan.FromMilliseconds(100);

    private BusFixture _bus = null!;

    /// <summary>The node's limits, shortened so a test takes seconds, not minutes.</summary>
    private static readonly ConnectionLimits Short = new()
    {
        HandshakeTimeout = TimeSpan.FromSeconds(3),
        KeepAliveTimeout = TimeSpan.FromSeconds(3),
        RequestHeadersTimeout = TimeSpan.FromSeconds(3),
        IdleTimeout = TimeSpan.FromSeconds(4),
        MinRequestBodyGracePeriod = TimeSpan.FromSeconds(2),
    };

    [OneTimeSetUp]
    public async Task SetUp() => _bus = await BusFixture.StartAsync(peerLimits: Short);

    [OneTimeTearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [TearDown]
    public async Task AGoodPeerIsStillServed()
    {
        using var channel = _bus.PeerChannel(_bus.ClientNode.Keys.Authentication);
        var response = await new ExchangeClient(channel).DeliverAsync(_bus.SignAsClient(_bus.RequestHeader()), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30))).ResponseAsync;

        Assert.That(MessageHeader.Parser.ParseFrom(response.Header).Kind, Is.EqualTo(MessageKind.Response));
    }

    [Test]
    public async Task CompressedFlagWithoutEncoding_Internal()
    {
        var (http, status) = await SendAsync(RawHttp2Peer.GrpcMessage(Envelope(), flag: 1), endless: false);

        Assert.That(http, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task UnknownFlagByte_Unknown()
    {
        // Grpc.AspNetCore refuses a frame it cannot read with UNKNOWN (the hand-written transport said INTERNAL).
        var (_, status) = await SendAsync(RawHttp2Peer.GrpcMessage(Envelope(), flag: 0x80), endless: false);

        Assert.That(status, Is.EqualTo("2"));
    }

    [Test]
    public async Task LengthPrefixOverTheNodesLimitWithAFewBytesAndNoEnd_ResourceExhaustedAtOnce()
    {
        var (_, status) = await SendAsync(RawHttp2Peer.GrpcMessage(new byte[16], declaredLength: (uint)NodeLimits.MaxMessageBytes + 1), endless: true);

        Assert.That(status, Is.EqualTo("8"));
    }

    [Test]
    public async Task LengthPrefixOf4GiBWithAFewBytesAndNoEnd_RefusedAtOnce()
    {
        // The request never ends: the node must answer from the prefix alone. A length past what a
        // message can be is a frame Grpc.AspNetCore cannot read: UNKNOWN (the hand-written transport
        // said RESOURCE_EXHAUSTED; a length within range but over the node's limit still gets that).
        var (_, status) = await SendAsync(RawHttp2Peer.GrpcMessage(new byte[16], declaredLength: uint.MaxValue), endless: true);

        Assert.That(status, Is.EqualTo("2"));
    }

    [Test]
    public async Task MessageCutShort_Internal()
    {
        var (_, status) = await SendAsync(RawHttp2Peer.GrpcMessage(Envelope())[..100], endless: false);

        Assert.That(status, Is.EqualTo("13"));
    }

    [Test]
    public async Task WholeRequestDrippedOneByteAtATime_NodeLetsGoBeforeItEnds()
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync(_bus.ProviderNode.PeerAddress, _bus.ClientNode.Keys.Authentication, giveUp.Token);
        byte[] request = [.. RawHttp2Peer.Preface(), .. RawHttp2Peer.RequestHeaders(DeliverPath), .. RawHttp2Peer.DataFrame(RawHttp2Peer.GrpcMessage(Envelope()), endStream: true)];

        var letGo = peer.ServerLetsGoAsync(giveUp.Token);
        var allSent = await peer.DripAsync(request, DripInterval, letGo, giveUp.Token);
        var how = await letGo;

        TestContext.Out.WriteLine($"{how} after {peer.Sent} of {request.Length} bytes");
        Assert.That(allSent, Is.False, $"the node waited for all {request.Length} bytes ({how})");
        Assert.That(how, Is.AnyOf("connection closed", "GOAWAY", "RST_STREAM"));
    }

    [Test]
    public async Task ConnectsAndNeverStartsTheHandshake_NodeClosesTheConnection()
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync(_bus.ProviderNode.PeerAddress, clientCertificate: null, giveUp.Token);

        Assert.That(await peer.ServerLetsGoAsync(giveUp.Token), Is.EqualTo("connection closed"));
    }

    [Test]
    public async Task ConnectionWithNoCallsKeptBusyWithPings_NodeLetsGo()
    {
        // Whole, valid frames, but never a request: pings must not keep an idle connection open.
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync(_bus.ProviderNode.PeerAddress, _bus.ClientNode.Keys.Authentication, giveUp.Token);
        await peer.WriteAsync(RawHttp2Peer.Preface(), giveUp.Token);

        var letGo = peer.ServerLetsGoAsync(giveUp.Token);
        var pings = 0;
        while (!letGo.IsCompleted)
        {
            try
            {
                await peer.WriteAsync(RawHttp2Peer.PingFrame(), giveUp.Token);
                pings++;
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(letGo, Task.Delay(TimeSpan.FromMilliseconds(500), giveUp.Token));
        }

        var how = await letGo;
        TestContext.Out.WriteLine($"{how} after {pings} pings");
        Assert.That(how, Is.AnyOf("connection closed", "GOAWAY"));
    }

    [Test]
    public async Task HeadersDrippedOneByteAtATime_NodeLetsGoBeforeTheyEnd()
    {
        // Slowloris: the request headers never finish arriving (padded so that at this pace they
        // would take minutes), so no stream is ever opened and no body rate applies. Kestrel's
        // header timeout does not start on a partial frame: the keep-alive timeout is what cuts
        // it (with the node's limits before this test, it held on past 90 s).
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync(_bus.ProviderNode.PeerAddress, _bus.ClientNode.Keys.Authentication, giveUp.Token);
        var headers = RawHttp2Peer.RequestHeaders(DeliverPath, padding: 4_000);

        var letGo = peer.ServerLetsGoAsync(giveUp.Token);
        var allSent = await peer.DripAsync([.. RawHttp2Peer.Preface(), .. headers], DripInterval, letGo, giveUp.Token);
        var how = await letGo;

        TestContext.Out.WriteLine($"{how} after {peer.Sent} bytes");
        Assert.That(allSent, Is.False, $"the node waited for all the headers ({how})");
        Assert.That(how, Is.AnyOf("connection closed", "GOAWAY"));
    }

    [Test]
    public async Task BodyDrippedOneByteAtATime_NodeLetsGoBeforeItEnds()
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync(_bus.ProviderNode.PeerAddress, _bus.ClientNode.Keys.Authentication, giveUp.Token);
        await peer.WriteAsync([.. RawHttp2Peer.Preface(), .. RawHttp2Peer.RequestHeaders(DeliverPath)], giveUp.Token);
        var message = RawHttp2Peer.GrpcMessage(Envelope());

        // One DATA frame per byte of the gRPC message, the last one ending the stream.
        var letGo = peer.ServerLetsGoAsync(giveUp.Token);
        var sent = 0;
        for (; sent < message.Length && !letGo.IsCompleted; sent++)
        {
            try
            {
                await peer.WriteAsync(RawHttp2Peer.DataFrame(message.AsSpan(sent, 1), endStream: sent == message.Length - 1), giveUp.Token);
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(letGo, Task.Delay(DripInterval, giveUp.Token));
        }

        var how = await letGo;
        TestContext.Out.WriteLine($"{how} after {sent} of {message.Length} bytes of the message");
        Assert.That(sent, Is.LessThan(message.Length), $"the node waited for the whole message ({how})");
        Assert.That(how, Is.AnyOf("connection closed", "GOAWAY", "RST_STREAM"));
    }

    [Test]
    public async Task StreamThatNeverEnds_NodeLetsGo()
    {
        // A whole, genuine request, but the stream is never half-closed: a unary method must not
        // wait for its end forever.
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync(_bus.ProviderNode.PeerAddress, _bus.ClientNode.Keys.Authentication, giveUp.Token);
        await peer.WriteAsync([.. RawHttp2Peer.Preface(), .. RawHttp2Peer.RequestHeaders(DeliverPath), .. RawHttp2Peer.DataFrame(RawHttp2Peer.GrpcMessage(Envelope()), endStream: false)], giveUp.Token);

        var how = await peer.ServerLetsGoAsync(giveUp.Token);

        TestContext.Out.WriteLine(how);
        Assert.That(how, Is.AnyOf("connection closed", "GOAWAY", "RST_STREAM", "stream ended by the server"));
    }

    /// <summary>The HTTP/2 path of the inter-node method, as a raw peer writes it.</summary>
    private const string DeliverPath = "/exchangebus.exchange.v1.Exchange/Deliver";

    private byte[] Envelope() => _bus.SignAsClient(_bus.RequestHeader()).ToByteArray();

    /// <summary>Sends <paramref name="body"/> as the request body over real mutual TLS; with <paramref name="endless"/> the body then never ends.</summary>
    private async Task<(HttpStatusCode Http, string? Status)> SendAsync(byte[] body, bool endless)
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [_bus.ClientNode.Keys.Authentication];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"https://{_bus.ProviderNode.PeerAddress}{DeliverPath}"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new BodyContent(body, endless, giveUp.Token),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/grpc");
        request.Headers.TE.ParseAdd("trailers");

        using var response = await invoker.SendAsync(request, giveUp.Token);
        await response.Content.ReadAsByteArrayAsync(giveUp.Token);
        var status = response.Headers.TryGetValues("grpc-status", out var h) ? h.First()
            : response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First() : null;
        return (response.StatusCode, status);
    }

    /// <summary>Writes the bytes, then either ends or waits until the test gives up.</summary>
    private sealed class BodyContent(byte[] body, bool endless, CancellationToken giveUp) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body, giveUp);
            await stream.FlushAsync(giveUp);
            if (endless)
            {
                await Task.Delay(Timeout.Infinite, giveUp);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
