// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
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
        new LocalGateway.LocalGatewayClient(_local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            UserId = "official-7",
            Payload = ByteString.CopyFromUtf8(payload),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60))).ResponseAsync;

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

    // Silent is like a host gone dark: only the peer channel's connect timeout ends the attempt,
    // so two calls (the rotation starts one of them at ss2) rather than ten.
    [TestCase(false, 10, TestName = "OneNodeFailsTheHandshake_EveryCallAnsweredByTheOther")]
    [TestCase(true, 2, TestName = "OneNodeNeverAnswersTheHandshake_EveryCallAnsweredByTheOther")]
    public async Task SomethingElseOnOneNodesPort_EveryCallAnsweredByTheOther(bool holdSilent, int calls)
    {
        await _bus.StopProviderNodeAsync(1);
        using var impostor = new Impostor(_bus.ProviderData[1].PeerPort, holdSilent);

        Assert.That(await AnsweringNodes(calls), Is.All.EqualTo(Ss1));
        Assert.That(_bus.BackendCalls, Is.EqualTo(calls));
        Assert.That(impostor.Accepted, Is.GreaterThan(0), "the client's node did try ss2");
    }

    [Test]
    public async Task BothNodesDown_ProviderUnreachable_BackendNeverCalled_AndTheFailureLogged()
    {
        await Call();
        await _bus.StopProviderNodeAsync(0);
        await _bus.StopProviderNodeAsync(1);
        var callsBefore = _bus.BackendCalls;
        var log = _bus.ClientNode.Log;
        var lastBefore = log.LastSequence();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call("unanswered"));

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.ProviderUnreachable));
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(ex.CorrelationId, Is.Not.Empty);
        Assert.That(_bus.BackendCalls, Is.EqualTo(callsBefore));

        // The request, then its outcome: one message id, the code the caller got.
        Assert.That(log.LastSequence(), Is.EqualTo(lastBefore + 2));
        var request = log.Get(lastBefore + 1)!.Record;
        var outcome = log.Get(lastBefore + 2)!.Record;
        Assert.That(request.Direction, Is.EqualTo(MessageDirection.ClientRequest));
        Assert.That(outcome.Direction, Is.EqualTo(MessageDirection.ClientResponse));
        Assert.That(outcome.MessageId, Is.EqualTo(request.MessageId));
        Assert.That(outcome.Status, Is.EqualTo(NodeErrors.ProviderUnreachable));
        Assert.That(outcome.CorrelationId, Is.EqualTo(ex.CorrelationId));
        Assert.That(log.Verify().IsValid, Is.True);
    }

    /// <summary>The directions of a message's records on a node, all of them answered normally.</summary>
    private static IEnumerable<MessageDirection> Directions(NodeServer node, string messageId) =>
        node.Log.FindByMessageId(messageId).Where(e => e.Record.Status == MessageLogRecord.StatusOk).Select(e => e.Record.Direction);

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

    /// <summary>
    /// Something other than the node on its peer port: it takes each connection and closes it
    /// at once (a failed handshake), or keeps it open and says nothing (a handshake that never ends).
    /// </summary>
    private sealed class Impostor : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly ConcurrentBag<TcpClient> _held = [];
        private readonly CancellationTokenSource _stop = new();
        private int _accepted;

        public Impostor(int port, bool holdSilent)
        {
            _listener = new TcpListener(IPAddress.Loopback, port);
            _listener.Start();
            _ = AcceptAsync(holdSilent);
        }

        public int Accepted => Volatile.Read(ref _accepted);

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            foreach (var connection in _held)
            {
                connection.Dispose();
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync(bool holdSilent)
        {
            try
            {
                while (true)
                {
                    var connection = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    if (holdSilent)
                    {
                        _held.Add(connection);
                    }
                    else
                    {
                        connection.Dispose();
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Disposed.
            }
        }
    }
}
