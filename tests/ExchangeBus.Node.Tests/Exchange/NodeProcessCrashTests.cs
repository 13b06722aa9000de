// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// Issue 4: "every request and response, on both nodes, is written to the message log before
/// the call is answered; an answered call's records survive kill -9". The provider's and the
/// client's nodes run as real <c>xbus node serve</c> processes (the registry and the backend
/// stay in the test) and are killed with SIGKILL while callers are still calling; the logs are
/// then read from the files they left.
/// </summary>
[NonParallelizable]
public sealed class NodeProcessCrashTests
{
    // Generous: two busy cores run the test, two nodes and the registry.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private const int Callers = 8;
    private const int AnsweredBeforeKill = 80;

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

        SqliteConnection.ClearAllPools();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task NodesKilledMidStream_EveryAnsweredCallIsLoggedOnBothNodes_AndTheNodesCarryOnAfterRestart()
    {
        var provider = await StartNodeAsync(_bus.ProviderData[0]);
        var client = await StartNodeAsync(_bus.ClientData);

        var answered = new ConcurrentQueue<string>();
        var failedBeforeKill = new ConcurrentQueue<string>();
        var killed = 0;
        using (var local = BusChannel.Create(new Uri(client.LocalAddress), new BusChannelOptions()))
        {
            // Each caller calls until a call fails; once the nodes are dead every caller's next call does.
            var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
            {
                for (var i = 0; ; i++)
                {
                    try
                    {
                        answered.Enqueue((await Call(local, $"caller-{c}-call-{i}".PadRight(2048, '.'))).MessageId);
                    }
                    catch (RpcException ex)
                    {
                        if (Volatile.Read(ref killed) == 0)
                        {
                            failedBeforeKill.Enqueue(ex.Message);
                        }

                        return;
                    }
                }
            })).ToArray();

            await WaitUntil(() => answered.Count >= AnsweredBeforeKill || !failedBeforeKill.IsEmpty || callers.All(c => c.IsCompleted));
            Assert.That(failedBeforeKill, Is.Empty, string.Join(Environment.NewLine, ["calls failed before the kill; the nodes wrote:", provider.Output, client.Output]));

            Volatile.Write(ref killed, 1);
            await Task.WhenAll(provider.KillAsync(), client.KillAsync());
            await Task.WhenAll(callers).WaitAsync(Patience);
            Assert.That(failedBeforeKill, Is.Empty);
        }

        // What the dead processes left on disk: every answered call, both records, on both nodes.
        var ids = answered.ToArray();
        Assert.That(ids, Has.Length.GreaterThanOrEqualTo(AnsweredBeforeKill));
        Assert.That(ids, Is.Unique);
        var clientLog = _bus.ClientData.Paths;
        var providerLog = _bus.ProviderData[0].Paths;
        var clientLastBefore = AssertSurvived(clientLog, ids, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        var providerLastBefore = AssertSurvived(providerLog, ids, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
        TestContext.Progress.WriteLine($"killed with {ids.Length} calls answered; records left: client {clientLastBefore}, provider {providerLastBefore}");

        // Restarted on the same folders, the nodes chain new records after the old ones.
        provider = await StartNodeAsync(_bus.ProviderData[0]);
        client = await StartNodeAsync(_bus.ClientData);
        CallResponse afterRestart;
        using (var local = BusChannel.Create(new Uri(client.LocalAddress), new BusChannelOptions()))
        {
            afterRestart = await Call(local, "after-restart");
        }

        Assert.That(afterRestart.Payload.ToStringUtf8(), Is.EqualTo($"echo:after-restart:{BusFixture.ClientSubsystem}"));
        AssertChainedAfter(clientLog, clientLastBefore, afterRestart.MessageId, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        AssertChainedAfter(providerLog, providerLastBefore, afterRestart.MessageId, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
    }

    private async Task<NodeProcess> StartNodeAsync(BusFixture.EnrolledNode node)
    {
        var process = NodeProcess.Start(node);
        _processes.Add(process);
        await process.WaitUntilReadyAsync(Patience);
        return process;
    }

    private static Task<CallResponse> Call(GrpcChannel local, string payload) =>
        new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            UserId = "official-7",
            SubjectId = "citizen-001",
            Payload = ByteString.CopyFromUtf8(payload),
        }, new CallOptions(deadline: DateTime.UtcNow.Add(Patience))).ResponseAsync;

    /// <summary>Checks a dead node's log file; returns its last sequence number.</summary>
    private static long AssertSurvived(NodePaths node, IReadOnlyList<string> answered, MessageDirection request, MessageDirection response)
    {
        Assert.That(IntegrityCheck(node.MessageLog), Is.EqualTo("ok"), node.DataDirectory);
        using var log = MessageLogReader.Open(node.MessageLog);
        var verification = log.Verify();
        var last = log.LastSequence();
        Assert.That(verification.IsValid, Is.True, verification.Detail);
        Assert.That(verification.RecordsChecked, Is.EqualTo(last));
        foreach (var id in answered)
        {
            Assert.That(Answered(log, id), Is.EqualTo(new[] { request, response }), $"message {id} in {node.DataDirectory}");
        }

        return last;
    }

    private static void AssertChainedAfter(NodePaths node, long lastBefore, string messageId, MessageDirection request, MessageDirection response)
    {
        using var log = MessageLogReader.Open(node.MessageLog);
        var records = log.FindByMessageId(messageId);
        Assert.That(Answered(log, messageId), Is.EqualTo(new[] { request, response }));
        Assert.That(records[0].Sequence, Is.EqualTo(lastBefore + 1), "the first record after the restart follows the last one the crash left");
        Assert.That(records[0].PreviousHash, Is.EqualTo(log.Get(lastBefore)!.Hash));
        var verification = log.Verify();
        Assert.That(verification.IsValid, Is.True, verification.Detail);
        Assert.That(verification.RecordsChecked, Is.EqualTo(log.LastSequence()));
    }

    /// <summary>The directions of a message's records that say it was answered normally, in order.</summary>
    private static IEnumerable<MessageDirection> Answered(MessageLogReader log, string messageId) =>
        log.FindByMessageId(messageId).Where(e => e.Record.Status == MessageLogRecord.StatusOk).Select(e => e.Record.Direction);

    private static string IntegrityCheck(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var giveUp = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), giveUp.Token);
        }
    }
}
