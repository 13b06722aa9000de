// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Grpc;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Load" and "Crashes" of the registry: many callers drive the bus of real processes
/// for a bounded time; then every answered call must have its records on both nodes, the two
/// logs must reconcile message by message through the audit API, and each log must verify
/// (chain, Merkle tree, signatures) from its files after a graceful stop. The long variant is
/// behind XBUS_PROOF_SECONDS (seconds of load; 8 by default, so CI stays short).
/// </summary>
public sealed class LoadProofTests
{
    private const int Callers = 16;

    private ProofBus _bus = null!;

    private static TimeSpan LoadDuration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("XBUS_PROOF_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 8);

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task ManyCallersForABoundedTime_EveryAnsweredCallIsOnBothNodes_AndTheLogsReconcileAndVerify()
    {
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (answered, failures) = await LoadAsync(LoadDuration, during: null);
        var to = DateTimeOffset.UtcNow.AddSeconds(1);
        TestContext.Progress.WriteLine($"load: {answered.Count} calls answered by {Callers} callers in {LoadDuration.TotalSeconds:0} s, {failures.Count} failed");
        Assert.That(failures, Is.Empty, _bus.Outputs);
        Assert.That(answered, Is.Not.Empty);

        // Reconciled by a national auditor through both nodes' audit APIs, while they run.
        var auditor = await _bus.NationalAuditorAsync();
        var reconcile = await Xbus.RunAsync(_bus.Root, "audit", "reconcile", "--node", _bus.ProviderPeer, "--node", _bus.ClientPeer,
            "--from", from.ToString("O", CultureInfo.InvariantCulture), "--to", to.ToString("O", CultureInfo.InvariantCulture),
            "--auditor", auditor, "--anchor", Path.Combine(_bus.Root, "anchor.json"), "--json");
        Assert.That(reconcile.Exit, Is.Zero, reconcile.ToString());
        using (var report = JsonDocument.Parse(reconcile.Output))
        {
            Assert.That(report.RootElement.GetProperty("exchanges").GetInt32(), Is.EqualTo(answered.Count), reconcile.Output);
            Assert.That(report.RootElement.GetProperty("matched").GetInt32(), Is.EqualTo(answered.Count), reconcile.Output);
            Assert.That(report.RootElement.GetProperty("differences").GetArrayLength(), Is.Zero, reconcile.Output);
        }

        // Stopped as a service manager stops them: both flush and exit 0.
        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ClientNode.Output);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ProviderNode.Output);

        await AssertLogHoldsAsync(_bus.ClientData, answered, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        await AssertLogHoldsAsync(_bus.ProviderData, answered, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
    }

    [Test]
    public async Task RegistryKilledMidLoad_TheNodesKeepAnswering_AndTheRestartedRegistryIsWhole()
    {
        var (answered, failures) = await LoadAsync(LoadDuration, during: async () =>
        {
            await _bus.Registry.KillAsync();

            // The nodes work from their verified cached configuration and OCSP responses.
            await Task.Delay(LoadDuration / 2);
            _bus.Registry.Restart();
            await _bus.Registry.WaitUntilReadyAsync(ProofBus.Patience);
        });
        TestContext.Progress.WriteLine($"registry killed mid-load: {answered.Count} calls answered, {failures.Count} failed");
        Assert.That(failures, Is.Empty, _bus.Outputs);
        Assert.That(answered, Is.Not.Empty);

        // The registry the crash left: its database is sound and its admin audit log's chain holds.
        Assert.That(IntegrityCheck(Path.Combine(_bus.RegistryData, "registry.db")), Is.EqualTo("ok"));
        await Xbus.MustAsync(_bus.Root, "registry", "audit-log", "verify", "--data", _bus.RegistryData);

        // And it still serves: a change is accepted and published.
        await Xbus.MustAsync(_bus.Root, "registry", "member", "add", "VN/GOV/000.00.00.P02", "--name", "Another province", "--data", _bus.RegistryData);

        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ClientNode.Output);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero, _bus.ProviderNode.Output);
        await AssertLogHoldsAsync(_bus.ClientData, answered, MessageDirection.ClientRequest, MessageDirection.ClientResponse);
        await AssertLogHoldsAsync(_bus.ProviderData, answered, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);
    }

    /// <summary>Closed-loop callers for <paramref name="duration"/>; <paramref name="during"/> runs once the load is going.</summary>
    private async Task<(IReadOnlyCollection<string> Answered, IReadOnlyCollection<string> Failures)> LoadAsync(TimeSpan duration, Func<Task>? during)
    {
        var answered = new ConcurrentBag<string>();
        var failures = new ConcurrentBag<string>();
        using var local = GrpcChannel.ForAddress(new Uri(_bus.ClientLocal), new GrpcChannelOptions());
        using var stop = new CancellationTokenSource(duration);
        var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var subject = $"VN-CITIZEN-{c:D3}{i:D6}";
                try
                {
                    var reply = await ProofBus.CallAsync(local, subject);
                    if (reply.Payload.ToStringUtf8().Contains($"\"holder\":\"{subject}\"", StringComparison.Ordinal))
                    {
                        answered.Add(reply.MessageId);
                    }
                    else
                    {
                        failures.Add($"{subject}: wrong answer {reply.Payload.ToStringUtf8()}");
                    }
                }
                catch (RpcException ex)
                {
                    failures.Add($"{subject}: {ex.ErrorCode} {ex.Status.Detail}");
                }
            }
        })).ToArray();

        if (during is not null)
        {
            await Task.Delay(duration / 4);
            await during();
        }

        await Task.WhenAll(callers).WaitAsync(ProofBus.Patience);
        return (answered, failures);
    }

    /// <summary>A stopped node's files: SQLite sound, `xbus audit verify` passes, every answered call there once, both records.</summary>
    private async Task AssertLogHoldsAsync(string data, IReadOnlyCollection<string> answered, MessageDirection request, MessageDirection response)
    {
        var path = Path.Combine(data, "messagelog.db");
        Assert.That(IntegrityCheck(path), Is.EqualTo("ok"), data);
        await Xbus.MustAsync(_bus.Root, "audit", "verify", "--data", data);

        using var log = MessageLogReader.Open(path);
        foreach (var id in answered)
        {
            var records = log.FindByMessageId(id).Select(e => (e.Record.Direction, e.Record.Status));
            Assert.That(records, Is.EqualTo(new[] { (request, MessageLogRecord.StatusOk), (response, MessageLogRecord.StatusOk) }), $"message {id} in {data}");
        }
    }

    private static string IntegrityCheck(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    }
}
