// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// Issue 7: "graceful shutdown on SIGTERM (in-flight calls finish, the log queue is flushed)".
/// Both nodes run as real <c>xbus node serve</c> processes; while a call is at the backend
/// (which works on it for a few seconds) one of them is sent SIGTERM, as a service manager
/// stops it. The call must still be answered, the process must end by itself with exit code 0,
/// and the stopped node's log must hold the call's request and response.
/// </summary>
[NonParallelizable]
public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly List<NodeProcess> _processes = [];
    private BusFixture _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await BusFixture.PrepareAsync();

    [TearDown]
    public async Task TearDown()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        _processes.Clear();
        SqliteConnection.ClearAllPools();
        await _bus.DisposeAsync();
    }

    [TestCase(true, TestName = "SIGTERM to the provider's node mid-call: the call is answered, logged, and the node exits 0")]
    [TestCase(false, TestName = "SIGTERM to the client's node mid-call: the call is answered, logged, and the node exits 0")]
    public async Task SigtermMidCall(bool stopProvider)
    {
        var provider = await StartAsync(_bus.ProviderData[0]);
        var client = await StartAsync(_bus.ClientData);
        using var local = BusChannel.Create(new Uri(client.LocalAddress), new BusChannelOptions());

        var call = new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            UserId = "official-7",
            Payload = ByteString.CopyFromUtf8("pause"),
        }, new CallOptions(deadline: DateTime.UtcNow.Add(Patience))).ResponseAsync;

        // The call has passed both nodes and is at the backend: it is in flight on both.
        using (var giveUp = new CancellationTokenSource(Patience))
        {
            while (Volatile.Read(ref _bus.BackendCalls) == 0 && !call.IsCompleted)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), giveUp.Token);
            }
        }

        Assert.That(call.IsCompleted, Is.False, "the call ended before the node could be stopped");
        var stopped = stopProvider ? provider : client;
        var exit = stopped.TerminateAsync(Patience);

        var reply = await call;
        Assert.That(reply.Payload.ToStringUtf8(), Is.EqualTo($"echo:pause:{BusFixture.ClientSubsystem}"));
        Assert.That(await exit, Is.Zero, stopped.Output);

        var paths = stopProvider ? _bus.ProviderData[0].Paths : _bus.ClientData.Paths;
        using var log = MessageLogReader.Open(paths.MessageLog);
        var records = log.FindByMessageId(reply.MessageId).Select(e => (e.Record.Direction, e.Record.Status));
        Assert.That(records, Is.EqualTo(stopProvider
            ? new[] { (MessageDirection.ProviderRequest, MessageLogRecord.StatusOk), (MessageDirection.ProviderResponse, MessageLogRecord.StatusOk) }
            : new[] { (MessageDirection.ClientRequest, MessageLogRecord.StatusOk), (MessageDirection.ClientResponse, MessageLogRecord.StatusOk) }));
        var verification = log.Verify();
        Assert.That(verification.IsValid, Is.True, verification.Detail);
    }

    private async Task<NodeProcess> StartAsync(BusFixture.EnrolledNode node)
    {
        var process = NodeProcess.Start(node);
        _processes.Add(process);
        await process.WaitUntilReadyAsync(Patience);
        return process;
    }
}
