// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// A provider member with two nodes (…/ss1 and …/ss2) serving the same service to the same
/// backend: the client's node shares calls between them, and when one cannot be reached the
/// other answers; when neither can, the caller gets ProviderUnreachable and the backend is not called.
/// </summary>
[NonParallelizable]
public sealed class FailoverTests
{
    private const string Ss1 = BusFixture.Provider + "/ss1";
    private const string Ss2 = BusFixture.Provider + "/ss2";

    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;

    [SetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(providerNodes: 2);
        _local = _bus.LocalChannel();
    }

    [TearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
    }

    private Task<CallResponse> Call(string payload = "hello") =>
        _local.UnaryAsync(NodeMethods.Call, new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            UserId = "official-7",
            Payload = ByteString.CopyFromUtf8(payload),
        }, new CallOptions(Deadline: DateTimeOffset.UtcNow.AddSeconds(60)));

    /// <summary>Makes calls one after another; each must be answered by the backend.</summary>
    private async Task<List<CallResponse>> CallsAnswered(int calls)
    {
        var responses = new List<CallResponse>();
        for (var i = 0; i < calls; i++)
        {
            var response = await Call($"call-{i}");
            Assert.That(response.Payload.ToStringUtf8(), Is.EqualTo($"echo:call-{i}:{BusFixture.ClientSubsystem}"));
            responses.Add(response);
        }

        return responses;
    }

    private async Task<List<string>> AnsweringNodes(int calls) => [.. (await CallsAnswered(calls)).Select(r => r.ProviderNode)];

    [Test]
    public async Task BothNodesUp_EveryCallAnswered_AndBothNodesAnswerSome()
    {
        var nodes = await AnsweringNodes(10);

        Assert.That(nodes, Is.All.AnyOf(Ss1, Ss2));
        Assert.That(nodes, Does.Contain(Ss1).And.Contain(Ss2));
        Assert.That(_bus.BackendCalls, Is.EqualTo(10));
    }

    [Test]
    public async Task OneNodeStoppedAfterServing_EveryCallAnsweredByTheOther()
    {
        // Both nodes have answered, so the client's node holds a live connection to each.
        Assert.That(await AnsweringNodes(4), Does.Contain(Ss1).And.Contain(Ss2));

        await _bus.StopProviderNodeAsync(0);

        var responses = await CallsAnswered(10);
        Assert.That(responses.Select(r => r.ProviderNode), Is.All.EqualTo(Ss2));
        Assert.That(_bus.BackendCalls, Is.EqualTo(14));
        foreach (var response in responses)
        {
            Assert.That(Directions(_bus.ClientNode, response.MessageId), Is.EqualTo(new[] { MessageDirection.ClientRequest, MessageDirection.ClientResponse }));
            Assert.That(Directions(_bus.ProviderNodes[1], response.MessageId), Is.EqualTo(new[] { MessageDirection.ProviderRequest, MessageDirection.ProviderResponse }));
        }
    }

    [Test]
    public async Task OneNodeDownFromTheStart_ItsPortRefusesConnections_EveryCallAnsweredByTheOther()
    {
        await _bus.StopProviderNodeAsync(1);
        Assert.That(CanConnect(_bus.ProviderData[1].PeerPort), Is.False, "nothing listens on ss2's port");

        Assert.That(await AnsweringNodes(10), Is.All.EqualTo(Ss1));
        Assert.That(_bus.BackendCalls, Is.EqualTo(10));
    }

    [Test]
    public async Task OneNodeFailsTheHandshake_EveryCallAnsweredByTheOther()
    {
        // Something else holds ss2's port: it takes the connection and closes it at once.
        await _bus.StopProviderNodeAsync(1);
        using var impostor = new TcpListener(IPAddress.Loopback, _bus.ProviderData[1].PeerPort);
        impostor.Start();
        using var stop = new CancellationTokenSource();
        var accepting = AcceptAndCloseAsync(impostor, stop.Token);

        Assert.That(await AnsweringNodes(10), Is.All.EqualTo(Ss1));
        Assert.That(_bus.BackendCalls, Is.EqualTo(10));

        await stop.CancelAsync();
        Assert.That(await accepting, Is.GreaterThan(0), "the client's node did try ss2");
    }

    [Test]
    public async Task OneNodeNeverAnswersTheHandshake_EveryCallAnsweredByTheOther()
    {
        // Like a host that has gone dark: the connection is taken and nothing ever comes back,
        // so only the channel's connect timeout ends the attempt.
        await _bus.StopProviderNodeAsync(1);
        using var impostor = new TcpListener(IPAddress.Loopback, _bus.ProviderData[1].PeerPort);
        impostor.Start();
        using var stop = new CancellationTokenSource();
        var held = new List<TcpClient>();
        var accepting = AcceptAndHoldAsync(impostor, held, stop.Token);

        // Two calls in a row: the rotation starts one of them at ss2.
        Assert.That(await AnsweringNodes(2), Is.All.EqualTo(Ss1));
        Assert.That(_bus.BackendCalls, Is.EqualTo(2));

        await stop.CancelAsync();
        Assert.That(await accepting, Is.GreaterThan(0), "the client's node did try ss2");
        held.ForEach(c => c.Dispose());
    }

    [Test]
    public async Task BothNodesDown_ProviderUnreachable_BackendNeverCalled_AndTheFailureLogged()
    {
        await Call();
        await _bus.StopProviderNodeAsync(0);
        await _bus.StopProviderNodeAsync(1);
        var callsBefore = _bus.BackendCalls;
        var log = _bus.ClientNode.Context.Log;
        var lastBefore = log.LastSequence();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call("unanswered"));

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.ProviderUnreachable));
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.Status.CorrelationId, Is.Not.Empty);
        Assert.That(_bus.BackendCalls, Is.EqualTo(callsBefore));

        // The request, then its outcome: one message id, the code the caller got.
        Assert.That(log.LastSequence(), Is.EqualTo(lastBefore + 2));
        var request = log.Get(lastBefore + 1)!.Record;
        var outcome = log.Get(lastBefore + 2)!.Record;
        Assert.That(request.Direction, Is.EqualTo(MessageDirection.ClientRequest));
        Assert.That(outcome.Direction, Is.EqualTo(MessageDirection.ClientResponse));
        Assert.That(outcome.MessageId, Is.EqualTo(request.MessageId));
        Assert.That(outcome.Status, Is.EqualTo(NodeErrors.ProviderUnreachable));
        Assert.That(outcome.CorrelationId, Is.EqualTo(ex.Status.CorrelationId));
        Assert.That(log.Verify().IsValid, Is.True);
    }

    /// <summary>The directions of a message's records on a node, all of them answered normally.</summary>
    private static IEnumerable<MessageDirection> Directions(NodeServer node, string messageId) =>
        node.Context.Log.FindByMessageId(messageId).Where(e => e.Record.Status == MessageLogRecord.StatusOk).Select(e => e.Record.Direction);

    private static bool CanConnect(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<int> AcceptAndHoldAsync(TcpListener listener, List<TcpClient> held, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                held.Add(await listener.AcceptTcpClientAsync(cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
            return held.Count;
        }
    }

    private static async Task<int> AcceptAndCloseAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        var accepted = 0;
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptTcpClientAsync(cancellationToken);
                accepted++;
            }
        }
        catch (OperationCanceledException)
        {
            return accepted;
        }
    }
}
