// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Proof.Tests.Infrastructure;

/// <summary>A call the caller saw fail: its error code (the gRPC status where the bus gave none).</summary>
internal sealed record CallFailure(string Subject, string Code, string Detail)
{
    public override string ToString() => $"{Subject}: {Code} {Detail}";
}

/// <summary>What a bounded load left: the message ids of the calls answered correctly, and every failure.</summary>
internal sealed record LoadResult(IReadOnlyCollection<string> Answered, IReadOnlyCollection<CallFailure> Failures)
{
    /// <summary>Calls answered before the fault began, and after it had ended (the restart done): figures for docs/reliability.md.</summary>
    public int AnsweredBefore { get; init; }

    public int AnsweredAfter { get; init; }
}

/// <summary>What <c>xbus audit reconcile --json</c> found: the counts and each difference's message id and code.</summary>
internal sealed record Reconciled(int Exchanges, int Matched, IReadOnlyList<(string MessageId, string Code)> Differences, string Output);

/// <summary>
/// The load and the checks the proof tests share: closed-loop callers through the province's
/// node, reconciliation by a national auditor, and what a stopped node's files must hold.
/// </summary>
internal static class ProofLoad
{
    public const int Callers = 16;

    private const int WarmedUp = Callers * 4;

    /// <summary>Seconds of load: XBUS_PROOF_SECONDS for the long variants, 8 by default so CI stays short.</summary>
    public static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("XBUS_PROOF_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 8);

    /// <summary>
    /// <see cref="Callers"/> closed-loop callers for at least <paramref name="duration"/>;
    /// <paramref name="during"/> runs once a quarter of it has passed and every caller has been
    /// answered a few times on average (the first calls of a fresh bus are slow: a fault then
    /// would find nothing in flight), and the load goes on for another quarter after it ends,
    /// so what follows a fault (a restart) is under load too.
    /// </summary>
    public static async Task<LoadResult> RunAsync(ProofBus bus, TimeSpan duration, Func<Task>? during)
    {
        var answered = new ConcurrentBag<string>();
        var failures = new ConcurrentBag<CallFailure>();
        using var local = BusChannel.Create(new Uri(bus.ClientLocal), new BusChannelOptions());
        using var stop = new CancellationTokenSource();
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
                        failures.Add(new CallFailure(subject, "WrongAnswer", reply.Payload.ToStringUtf8()));
                    }
                }
                catch (RpcException ex)
                {
                    failures.Add(new CallFailure(subject, ex.ErrorCode ?? ex.StatusCode.ToString(), ex.Status.Detail));

                    // A refused system waits a moment before it calls again; a dead node must not turn the load into a spin.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
                }
            }
        })).ToArray();

        var least = Task.Delay(duration);
        int before = 0, recovered = -1;
        if (during is not null)
        {
            await Task.Delay(duration / 4);
            using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
            {
                while (answered.Count < WarmedUp && !callers.All(c => c.IsCompleted))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), giveUp.Token);
                }
            }

            before = answered.Count;
            var began = DateTimeOffset.UtcNow;
            await during();
            TestContext.Progress.WriteLine($"fault and recovery took {(DateTimeOffset.UtcNow - began).TotalSeconds:0.0} s");
            recovered = answered.Count;
            await Task.Delay(duration / 4);
        }

        await least;
        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(ProofBus.Patience);
        return new LoadResult(answered, failures) { AnsweredBefore = before, AnsweredAfter = recovered < 0 ? 0 : answered.Count - recovered };
    }

    /// <summary><c>xbus audit reconcile</c> by a national auditor through both nodes' audit APIs, while they run.</summary>
    public static async Task<Reconciled> ReconcileAsync(ProofBus bus, DateTimeOffset from, DateTimeOffset to)
    {
        var auditor = await bus.NationalAuditorAsync();
        var reconcile = await Xbus.RunAsync(bus.Root, "audit", "reconcile", "--node", bus.ProviderPeer, "--node", bus.ClientPeer,
            "--from", from.ToString("O", CultureInfo.InvariantCulture), "--to", to.ToString("O", CultureInfo.InvariantCulture),
            "--auditor", auditor, "--anchor", Path.Combine(bus.Root, "anchor.json"), "--json");

        // 1 is "the logs disagree": the report says on what.
        Assert.That(reconcile.Exit, Is.AnyOf(0, 1), reconcile.ToString());
        using var report = JsonDocument.Parse(reconcile.Output);
        var root = report.RootElement;
        var differences = root.GetProperty("differences").EnumerateArray()
            .Select(d => (d.GetProperty("messageId").GetString()!, d.GetProperty("code").GetString()!)).ToList();
        return new Reconciled(root.GetProperty("exchanges").GetInt32(), root.GetProperty("matched").GetInt32(), differences, reconcile.Output);
    }

    /// <summary>A stopped node's files: SQLite sound, `xbus audit verify` passes, every answered call there once, both records.</summary>
    public static async Task AssertLogHoldsAsync(ProofBus bus, string data, IReadOnlyCollection<string> answered, MessageDirection request, MessageDirection response)
    {
        await AssertLogVerifiesAsync(bus, data);
        using var log = MessageLogReader.Open(Path.Combine(data, "messagelog.db"));
        foreach (var id in answered)
        {
            var records = log.FindByMessageId(id).Select(e => (e.Record.Direction, e.Record.Status));
            Assert.That(records, Is.EqualTo(new[] { (request, MessageLogRecord.StatusOk), (response, MessageLogRecord.StatusOk) }), $"message {id} in {data}");
        }
    }

    /// <summary>A stopped node's message log: SQLite sound, and `xbus audit verify` passes (chain, Merkle tree, signatures).</summary>
    public static async Task AssertLogVerifiesAsync(ProofBus bus, string data)
    {
        Assert.That(IntegrityCheck(Path.Combine(data, "messagelog.db")), Is.EqualTo("ok"), data);
        await Xbus.MustAsync(bus.Root, "audit", "verify", "--data", data);
    }

    /// <summary>
    /// Message ids a node's log holds more than one record of in one direction: a request
    /// handled twice (delivered twice) would show here, answered or not.
    /// </summary>
    public static IReadOnlyList<string> Duplicates(string data)
    {
        using var connection = ReadOnly(Path.Combine(data, "messagelog.db"));
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message_id || ' direction ' || direction || ' x' || COUNT(*) FROM records GROUP BY message_id, direction HAVING COUNT(*) > 1;";
        using var reader = command.ExecuteReader();
        var duplicates = new List<string>();
        while (reader.Read())
        {
            duplicates.Add(reader.GetString(0));
        }

        return duplicates;
    }

    /// <summary>`PRAGMA integrity_check` of every SQLite file the bus's processes keep (registry, both nodes); returns how many.</summary>
    public static int AssertEveryDatabaseSound(ProofBus bus)
    {
        var files = Directory.GetFiles(bus.Root, "*.db", SearchOption.AllDirectories);
        Assert.That(files, Is.Not.Empty);
        foreach (var file in files)
        {
            Assert.That(IntegrityCheck(file), Is.EqualTo("ok"), file);
        }

        return files.Length;
    }

    public static string IntegrityCheck(string path)
    {
        using var connection = ReadOnly(path);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    }

    private static SqliteConnection ReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}
