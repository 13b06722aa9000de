// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Issue 16, "No unstamped tail": a node stopped gracefully leaves no record covered by the hash
/// chain alone. The registry's time-stamping interval is an hour and the logs are empty when the
/// nodes start (their loops' first round finds nothing), so only the stop can have stamped what
/// the calls wrote. With the TSA down the node stops anyway, and its next start back-fills.
/// </summary>
[NonParallelizable]
public sealed class FinalStampTests
{
    private static readonly ConfigurationParameters Hourly = new() { TimeStampingIntervalSeconds = 3600 };
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Test]
    public async Task HostStop_InProcess_StampsAndPublishesAHeadOverTheLastRecord()
    {
        await using var bus = await BusFixture.StartAsync(parameters: Hourly);
        using (var local = bus.LocalChannel())
        {
            for (var i = 0; i < 3; i++)
            {
                await TreeHeadStamperTests.Call(local);
            }
        }

        var client = bus.ClientNode;
        var clientId = client.Node;
        var provider = bus.ProviderNode;
        var (clientLast, providerLast) = (client.Log.LastSequence(), provider.Log.LastSequence());
        Assert.That(client.Log.Reader.LatestTreeHead(), Is.Null, "no round has run since the calls");
        Assert.That(provider.Log.Reader.LatestTreeHead(), Is.Null);

        await client.DisposeAsync();
        await bus.StopProviderNodeAsync(0);

        AssertStampedThroughTheEnd(bus.ClientData, clientLast);
        AssertStampedThroughTheEnd(bus.ProviderData[0], providerLast);
        Assert.That(bus.Registry.Store.ReadTreeHeads(clientId, 0, 10).Select(h => (long)TreeHead.Parser.ParseFrom(h.TreeHead).TreeSize), Is.EqualTo(new[] { clientLast }),
            "the registry was up, so the stop published the head too");
    }

    [Test]
    public async Task Sigterm_MidCall_TheNodeProcessAnswersTheCall_ThenStampsAHeadOverItsLastRecord_AndExitsZero()
    {
        var bus = await BusFixture.PrepareAsync(parameters: Hourly);
        var processes = new List<NodeProcess>();
        try
        {
            var provider = NodeProcess.Start(bus.ProviderData[0]);
            processes.Add(provider);
            await provider.WaitUntilReadyAsync(Patience);
            var client = NodeProcess.Start(bus.ClientData);
            processes.Add(client);
            await client.WaitUntilReadyAsync(Patience);
            using var local = BusChannel.Create(new Uri(client.LocalAddress), new BusChannelOptions());
            await TreeHeadStamperTests.Call(local);
            await TreeHeadStamperTests.Call(local);

            // A call the backend works on for a few seconds: in flight on both nodes when the client's node gets SIGTERM.
            var call = new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
            {
                Service = BusFixture.Service,
                Client = BusFixture.ClientSubsystem,
                Payload = ByteString.CopyFromUtf8("pause"),
            }, new CallOptions(deadline: DateTime.UtcNow.Add(Patience))).ResponseAsync;
            using (var giveUp = new CancellationTokenSource(Patience))
            {
                while (Volatile.Read(ref bus.BackendCalls) < 3 && !call.IsCompleted)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), giveUp.Token);
                }
            }

            Assert.That(call.IsCompleted, Is.False, "the call ended before the node could be stopped");
            using (var log = MessageLogReader.Open(bus.ClientData.Paths.MessageLog))
            {
                Assert.That(log.LatestTreeHead(), Is.Null, "no round has run since the calls");
            }

            var exit = client.TerminateAsync(Patience);
            var reply = await call;
            Assert.That(await exit, Is.Zero, client.Output);
            Assert.That(await provider.TerminateAsync(Patience), Is.Zero, provider.Output);

            // The call's response was logged while the node was stopping, and the final head covers it.
            using (var log = MessageLogReader.Open(bus.ClientData.Paths.MessageLog))
            {
                var response = log.FindByMessageId(reply.MessageId).Single(e => e.Record.Direction == MessageDirection.ClientResponse);
                Assert.That(response.Sequence, Is.EqualTo(log.LastSequence()).And.EqualTo(6), "three exchanges, two records each; the paused one last");
            }

            AssertStampedThroughTheEnd(bus.ClientData, 6);
            using var providerLog = MessageLogReader.Open(bus.ProviderData[0].Paths.MessageLog);
            AssertStampedThroughTheEnd(bus.ProviderData[0], providerLog.LastSequence());
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            SqliteConnection.ClearAllPools();
            await bus.DisposeAsync();
        }
    }

    [TestCase(false, TestName = "Stop with the TSA refusing connections: the node stops, logs why, and its next start back-fills")]
    [TestCase(true, TestName = "Stop with a TSA that never answers: the final round is cut at the shutdown timeout, the node stops, and its next start back-fills")]
    public async Task StopWithTheTsaDown(bool tsaHangs)
    {
        var bus = await BusFixture.PrepareAsync(parameters: Hourly);
        var events = new ConcurrentQueue<(int Id, string? Code)>();
        NodeServer? provider = null;
        NodeServer? client = null;
        NodeServer? restarted = null;
        RegistryServer? registryAgain = null;
        TcpListener? silentTsa = null;
        try
        {
            provider = await BusFixture.StartNodeAsync(bus.ProviderData[0]);

            // A short shutdown timeout where the TSA hangs: the final round gets what is left of it.
            client = await BusFixture.StartNodeAsync(
                bus.ClientData, logging: b => b.AddProvider(new Capture(events)), shutdownTimeout: tsaHangs ? TimeSpan.FromSeconds(2) : null);
            using var auditor = await bus.IssueAuditorAsync(BusFixture.Client, "Nguyễn Văn An");
            using (var local = BusChannel.Create(new Uri(client.LocalAddress), new BusChannelOptions()))
            {
                await TreeHeadStamperTests.Call(local);
                await TreeHeadStamperTests.Call(local);
            }

            // The auditor's first call, while the registry is up, has the node check (and cache) its OCSP status.
            using var audit = bus.AuditChannel(client, auditor);
            var auditApi = new AuditService.AuditServiceClient(audit);
            await auditApi.GetTreeHeadsAsync(new GetTreeHeadsRequest()).ResponseAsync;

            var registryData = Path.Combine(bus.Root, "registry");
            var grpc = new Uri(bus.Registry.GrpcAddress);
            var http = new Uri(bus.Registry.HttpAddress);
            await bus.Registry.DisposeAsync(); // the TSA with it
            if (tsaHangs)
            {
                // Takes connections on the TSA's port and never answers them.
                silentTsa = new TcpListener(IPAddress.Loopback, http.Port);
                silentTsa.Start();
            }
            else
            {
                var refused = await Assert.ThrowsAsync<RpcException>(() => auditApi.StampTreeHeadAsync(new StampTreeHeadRequest()).ResponseAsync);
                Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.Unavailable, AuditErrors.TimeStampingFailed)));
            }

            audit.Dispose(); // no connection left open for the listeners' drain to wait on

            var last = client.Log.LastSequence();
            await client.DisposeAsync();

            var failures = events.Where(e => e.Id == 4603).Select(e => e.Code).ToList();
            Assert.That(failures, Is.EqualTo(new[] { tsaHangs ? TreeHeadStamper.FinalStampTimedOut : "TimeStampingAuthorityUnreachable" }));
            using (var log = MessageLogReader.Open(bus.ClientData.Paths.MessageLog))
            {
                Assert.That(log.LastSequence(), Is.EqualTo(last));
                Assert.That(log.LatestTreeHead()?.TreeSize ?? 0, Is.LessThan(last), "nothing could stamp the tail");
            }

            silentTsa?.Stop();
            registryAgain = await RegistryServer.StartAsync(new RegistryServerOptions
            {
                DataDirectory = registryData,
                GrpcListen = $"{grpc.Host}:{grpc.Port}",
                HttpListen = $"{http.Host}:{http.Port}",
            });
            restarted = await BusFixture.StartNodeAsync(bus.ClientData);
            var node = restarted;

            // The loop's first round on start covers what the stop could not.
            await MessageLog.SqliteMessageLogTests.WaitUntil(() => node.Stamper.StampedSize >= last);
            Assert.That(node.Log.Reader.FirstTreeHeadCovering(last), Is.Not.Null);
        }
        finally
        {
            foreach (var node in new[] { restarted, client, provider })
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }

            silentTsa?.Stop();
            if (registryAgain is not null)
            {
                await registryAgain.DisposeAsync();
            }

            SqliteConnection.ClearAllPools();
            await bus.DisposeAsync();
        }
    }

    private static void AssertStampedThroughTheEnd(BusFixture.EnrolledNode node, long last)
    {
        using var log = MessageLogReader.Open(node.Paths.MessageLog);
        Assert.That(log.LastSequence(), Is.EqualTo(last));
        var head = log.LatestTreeHead();
        Assert.That(head, Is.Not.Null, $"{node.Paths.DataDirectory}: no head after the stop");
        Assert.That(head!.TreeSize, Is.EqualTo(last));
        Assert.That(head.RootHash, Is.EqualTo(log.TreeRoot(last)));
        Assert.That(TreeHead.Parser.ParseFrom(head.TreeHead).TreeSize, Is.EqualTo((ulong)last));
    }

    /// <summary>The event id and the <c>Code</c> field of every log entry the node writes.</summary>
    private sealed class Capture(ConcurrentQueue<(int Id, string? Code)> events) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var code = state is IEnumerable<KeyValuePair<string, object?>> fields ? fields.FirstOrDefault(f => f.Key == "Code").Value as string : null;
            events.Enqueue((eventId.Id, code));
        }

        public void Dispose()
        {
        }
    }
}
