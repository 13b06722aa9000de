// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Security.Cryptography;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.MessageLog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.MessageLog;

public sealed class SqliteMessageLogTests
{
    private TempLogFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task AppendAsync_ThenGet_ReturnsTheRecordAsGiven_WithTheLogsTimeAndChain()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 15, 12, 0, 0, 123, TimeSpan.Zero).AddTicks(4_567));
        await using var log = Records.Open(_folder.LogPath, clock);
        var record = Records.Make("msg-1") with { At = DateTimeOffset.UnixEpoch };

        var sequence = await log.AppendAsync(record);

        Assert.That(sequence, Is.EqualTo(1));
        var entry = log.Get(1);
        Assert.That(entry, Is.Not.Null);
        var stored = entry!.Record;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry.Sequence, Is.EqualTo(1));
            Assert.That(stored.MessageId, Is.EqualTo(record.MessageId));
            Assert.That(stored.Direction, Is.EqualTo(record.Direction));
            Assert.That(stored.Client, Is.EqualTo(record.Client));
            Assert.That(stored.Service, Is.EqualTo(record.Service));
            Assert.That(stored.UserId, Is.EqualTo(record.UserId));
            Assert.That(stored.SubjectId, Is.EqualTo(record.SubjectId));
            Assert.That(stored.Issue, Is.EqualTo(record.Issue));
            Assert.That(stored.Status, Is.EqualTo(record.Status));
            Assert.That(stored.Header, Is.EqualTo(record.Header));
            Assert.That(stored.Body, Is.EqualTo(record.Body));
            Assert.That(stored.BodySha256, Is.EqualTo(record.BodySha256));
            Assert.That(stored.Signature, Is.EqualTo(record.Signature));
            Assert.That(stored.SignerCertificateSha256, Is.EqualTo(record.SignerCertificateSha256));
            Assert.That(stored.CorrelationId, Is.EqualTo(record.CorrelationId));

            // The log's clock, not the caller's value, to the millisecond.
            Assert.That(stored.At, Is.EqualTo(new DateTimeOffset(2030, 1, 15, 12, 0, 0, 123, TimeSpan.Zero)));
            Assert.That(entry.PreviousHash, Is.EqualTo(new byte[32]));
            Assert.That(entry.Hash, Has.Length.EqualTo(32));
            Assert.That(log.Count(), Is.EqualTo(1));
            Assert.That(log.LastSequence(), Is.EqualTo(1));
            Assert.That(log.Get(2), Is.Null);
            Assert.That(log.QueueDepth, Is.Zero);
        }
    }

    [Test]
    public async Task Append_KeepsUnicodeTextAndOptionalFieldsExactly()
    {
        await using var log = Records.Open(_folder.LogPath);
        var record = Records.Make("msg-ü-1") with
        {
            UserId = "Nguyễn Văn A",
            Issue = "hồ sơ 2030/001 — 🗂",
            SignerCertificateSha256 = null,
            Signature = [],
            Header = [],
            Body = [],
            BodySha256 = SHA256.HashData(ReadOnlySpan<byte>.Empty),
        };

        await log.AppendAsync(record);

        var stored = log.Get(1)!.Record;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stored.UserId, Is.EqualTo("Nguyễn Văn A"));
            Assert.That(stored.Issue, Is.EqualTo("hồ sơ 2030/001 — 🗂"));
            Assert.That(stored.SignerCertificateSha256, Is.Null);
            Assert.That(stored.Signature, Is.Empty);
            Assert.That(stored.Header, Is.Empty);
            Assert.That(stored.Body, Is.Not.Null.And.Empty);
            Assert.That(log.Verify().IsValid, Is.True);
        }
    }

    [Test]
    public async Task FindByMessageId_ReturnsRequestAndResponse_InSequenceOrder()
    {
        await using var log = Records.Open(_folder.LogPath);
        await log.AppendAsync(Records.Make("msg-a", MessageDirection.ClientRequest));
        await log.AppendAsync(Records.Make("msg-b", MessageDirection.ClientRequest));
        await log.AppendAsync(Records.Make("msg-a", MessageDirection.ClientResponse, status: "Server.ServerProxy.AccessDenied"));

        var found = log.FindByMessageId("msg-a");

        Assert.That(found.Select(e => (e.Sequence, e.Record.Direction, e.Record.Status)), Is.EqualTo(new[]
        {
            (1L, MessageDirection.ClientRequest, MessageLogRecord.StatusOk),
            (3L, MessageDirection.ClientResponse, "Server.ServerProxy.AccessDenied"),
        }));
        Assert.That(log.FindByMessageId("msg-none"), Is.Empty);
    }

    [Test]
    public async Task ManyConcurrentAppenders_GetDistinctIncreasingSequences_AndTheChainVerifies()
    {
        const int Appenders = 8;
        const int PerAppender = 500;
        await using var log = Records.Open(_folder.LogPath);
        var written = new ConcurrentDictionary<long, string>();

        var tasks = Enumerable.Range(0, Appenders).Select(a => Task.Run(async () =>
        {
            long previous = 0;
            for (var i = 0; i < PerAppender; i++)
            {
                var id = $"msg-{a}-{i}";
                var sequence = await log.AppendAsync(Records.Make(id, bodyBytes: 256));
                Assert.That(sequence, Is.GreaterThan(previous), "one appender's records keep their order");
                Assert.That(written.TryAdd(sequence, id), Is.True, $"sequence {sequence} handed out twice");
                previous = sequence;
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        Assert.That(written.Keys.Order(), Is.EqualTo(Enumerable.Range(1, Appenders * PerAppender).Select(i => (long)i)));
        foreach (var sequence in new long[] { 1, 777, 2_500, Appenders * PerAppender })
        {
            Assert.That(log.Get(sequence)!.Record.MessageId, Is.EqualTo(written[sequence]), $"record {sequence} is the one acknowledged with it");
        }

        var verification = log.Verify();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(verification.IsValid, Is.True, verification.Detail);
            Assert.That(verification.RecordsChecked, Is.EqualTo(Appenders * PerAppender));
            Assert.That(log.Count(), Is.EqualTo(Appenders * PerAppender));
            Assert.That(log.QueueDepth, Is.Zero);
        }
    }

    [Test]
    public async Task BodyOff_RecordKeepsTheBodyHash_AndVerifies()
    {
        await using var log = Records.Open(_folder.LogPath);
        var withBody = Records.Make("msg-1");
        var bodyOff = Records.Make("msg-1", MessageDirection.ClientResponse, logBody: false);

        await log.AppendAsync(withBody);
        await log.AppendAsync(bodyOff);

        var stored = log.Get(2)!.Record;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stored.Body, Is.Null);
            Assert.That(stored.BodySha256, Is.EqualTo(bodyOff.BodySha256));
            Assert.That(log.Verify(), Is.EqualTo(new MessageLogVerification(true, 2, null, null, null)));
        }
    }

    [Test]
    public async Task EmptySubjectId_IsStoredAsNone()
    {
        await using var log = Records.Open(_folder.LogPath);
        await log.AppendAsync(Records.Make("msg-1", subjectId: string.Empty));
        await log.AppendAsync(Records.Make("msg-2", subjectId: null));

        Assert.That(log.Get(1)!.Record.SubjectId, Is.Null);
        Assert.That(log.Get(2)!.Record.SubjectId, Is.Null);
        Assert.That(log.Verify().IsValid, Is.True);
    }

    [Test]
    public async Task AppendAsync_InvalidRecord_IsRefusedWithEveryProblem_AndNothingIsWritten()
    {
        await using var log = Records.Open(_folder.LogPath, options: new MessageLogOptions { MaxBodyBytes = 100 });
        var record = Records.Make("msg-1") with
        {
            MessageId = string.Empty,
            Header = new byte[MessageLogRecord.MaxHeaderBytes + 1],
            SignerCertificateSha256 = new byte[20],
            Direction = (MessageDirection)99,
        };

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(record).AsTask());
        Assert.That(refused.Message, Does.Contain("MessageId is empty")
            .And.Contain("Header has 65537 bytes")
            .And.Contain("SignerCertificateSha256 has 20 bytes")
            .And.Contain("Direction 99")
            .And.Contain("Body has 1024 bytes, more than 100"));

        var wrongHash = Records.Make("msg-2", bodyBytes: 50) with { BodySha256 = new byte[32] };
        await Assert.ThatAsync(() => log.AppendAsync(wrongHash).AsTask(), Throws.ArgumentException.With.Message.Contains("BodySha256 is not the SHA-256 of Body"));
        await Assert.ThatAsync(() => log.AppendAsync(Records.Make("msg-3", bodyBytes: 50) with { Client = "a\0b" }).AsTask(), Throws.ArgumentException.With.Message.Contains("NUL"));
        await Assert.ThatAsync(() => log.AppendAsync(Records.Make("msg-4", bodyBytes: 50) with { Issue = "\ud800" }).AsTask(), Throws.ArgumentException.With.Message.Contains("not valid Unicode"));
        Assert.That(log.LastSequence(), Is.Zero);
    }

    [Test]
    public void Open_InvalidOptions_AreRefusedWithEveryProblem()
    {
        var options = new MessageLogOptions { MaxBatchSize = 0, QueueCapacity = 0, MaxBodyBytes = -1 };

        Assert.That(
            () => Records.Open(_folder.LogPath, options: options),
            Throws.ArgumentException.With.Message.Contains("MaxBatchSize").And.Message.Contains("QueueCapacity").And.Message.Contains("MaxBodyBytes"));
    }

    [Test]
    public async Task Reopen_AfterDispose_ContinuesTheChain()
    {
        await using (var first = Records.Open(_folder.LogPath))
        {
            for (var i = 1; i <= 10; i++)
            {
                await first.AppendAsync(Records.Make($"msg-{i}"));
            }
        }

        await using var second = Records.Open(_folder.LogPath);
        var sequences = new List<long>();
        for (var i = 11; i <= 15; i++)
        {
            sequences.Add(await second.AppendAsync(Records.Make($"msg-{i}")));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sequences, Is.EqualTo(new long[] { 11, 12, 13, 14, 15 }));
            Assert.That(second.Get(11)!.PreviousHash, Is.EqualTo(second.Get(10)!.Hash));
            Assert.That(second.Verify(), Is.EqualTo(new MessageLogVerification(true, 15, null, null, null)));
        }
    }

    [Test]
    public async Task Open_UsesWalMode_AndKeepsSchemaVersion()
    {
        await using (var log = Records.Open(_folder.LogPath))
        {
            await log.AppendAsync(Records.Make("msg-1"));
            using var connection = new SqliteConnection($"Data Source={_folder.LogPath};Pooling=False;Mode=ReadOnly");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            Assert.That(command.ExecuteScalar(), Is.EqualTo("wal"));
            command.CommandText = "SELECT group_concat(version) FROM schema_version;";
            Assert.That(command.ExecuteScalar(), Is.EqualTo("1,2,3"));
            command.CommandText = "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' ORDER BY name);";
            Assert.That(command.ExecuteScalar(), Is.EqualTo(
                "records_by_at,records_by_client,records_by_message_id,records_by_service,records_by_subject,records_by_user"));
        }

        Records.Tamper(_folder.LogPath, "INSERT INTO schema_version (version) VALUES (99);");
        Assert.That(() => Records.Open(_folder.LogPath), Throws.InstanceOf<StorageException>()
            .With.Property(nameof(StorageException.Code)).EqualTo(StorageErrors.SchemaTooNew)
            .And.Message.Contains("newer than this program knows"));
    }

    [Test]
    public async Task DisposeAsync_WritesEverythingQueued_ThenRefusesAppends()
    {
        var log = Records.Open(_folder.LogPath);
        var pending = Enumerable.Range(1, 300).Select(i => log.AppendAsync(Records.Make($"msg-{i}", bodyBytes: 64)).AsTask()).ToArray();

        await log.DisposeAsync();

        var sequences = await Task.WhenAll(pending);
        Assert.That(sequences.Order(), Is.EqualTo(Enumerable.Range(1, 300).Select(i => (long)i)));
        await Assert.ThatAsync(() => log.AppendAsync(Records.Make("msg-late")).AsTask(), Throws.InstanceOf<ObjectDisposedException>());
        await log.DisposeAsync();

        await using var reopened = Records.Open(_folder.LogPath);
        Assert.That(reopened.Count(), Is.EqualTo(300));
    }

    [Test]
    public async Task FullQueue_MakesAppendersWait_AndCancellationWhileWaitingLogsNothing()
    {
        var options = new MessageLogOptions { QueueCapacity = 1, MaxBatchSize = 1, BusyTimeout = TimeSpan.FromSeconds(30) };
        await using var log = Records.Open(_folder.LogPath, options: options);
        using var cancel = new CancellationTokenSource();
        Task<long> first, second, third;
        using (WriteLock(_folder.LogPath))
        {
            first = log.AppendAsync(Records.Make("msg-1")).AsTask();
            await WaitUntil(() => log.QueuedNotTaken == 0); // the writer holds it, stuck behind the lock
            second = log.AppendAsync(Records.Make("msg-2")).AsTask(); // fills the one queue slot
            third = log.AppendAsync(Records.Make("msg-3"), cancel.Token).AsTask(); // no room: waits

            await Task.Delay(100);
            Assert.That(third.IsCompleted, Is.False);
            cancel.Cancel();
            await Assert.ThatAsync(() => third, Throws.InstanceOf<OperationCanceledException>());
            Assert.That(first.IsCompleted || second.IsCompleted, Is.False, "nothing commits while the lock is held");
        }

        Assert.That(await first, Is.EqualTo(1));
        Assert.That(await second, Is.EqualTo(2));
        Assert.That(log.FindByMessageId("msg-3"), Is.Empty);
        Assert.That(log.LastSequence(), Is.EqualTo(2));
        Assert.That(log.QueueDepth, Is.Zero);
    }

    [Test]
    public async Task FailedCommit_FailsEveryCallerInTheBatch_AcknowledgesNone_AndTheLogRecovers()
    {
        var options = new MessageLogOptions { BusyTimeout = TimeSpan.FromMilliseconds(100) };
        await using var log = Records.Open(_folder.LogPath, options: options);
        Assert.That(await log.AppendAsync(Records.Make("msg-0")), Is.EqualTo(1));

        Task<long>[] failing;
        using (WriteLock(_folder.LogPath))
        {
            // Held longer than the busy timeout: the writer cannot begin its transaction.
            failing = Enumerable.Range(1, 3).Select(i => log.AppendAsync(Records.Make($"msg-{i}")).AsTask()).ToArray();
            await Task.WhenAny(Task.WhenAll(failing), Task.Delay(TimeSpan.FromSeconds(30)));
        }

        foreach (var task in failing)
        {
            await Assert.ThatAsync(() => task, Throws.InstanceOf<SqliteException>());
        }

        Assert.That(log.LastSequence(), Is.EqualTo(1));
        Assert.That(await log.AppendAsync(Records.Make("msg-4")), Is.EqualTo(2));
        Assert.That(log.Verify(), Is.EqualTo(new MessageLogVerification(true, 2, null, null, null)));
        Assert.That(log.QueueDepth, Is.Zero);
    }

    [Test]
    public async Task BatchFailingPartway_RollsBackRecordsAlreadyInserted_AndAGapLeftByAnIntruderStopsTheWriter()
    {
        await using var log = Records.Open(_folder.LogPath);
        Assert.That(await log.AppendAsync(Records.Make("msg-0")), Is.EqualTo(1));

        // Someone else puts a row at 4 (as a second writer would): the batch [3, 4] fails at 4.
        Records.Tamper(
            _folder.LogPath,
            "INSERT INTO records SELECT 4, at, 'intruder', direction, client, service, user_id, subject_id, issue, status, body_sha256, " +
            "signature, signer_cert_sha256, correlation_id, prev_hash, hash, header, body FROM records WHERE seq = 1;");

        Task<long> alone, partway, conflicting;
        using (WriteLock(_folder.LogPath))
        {
            alone = log.AppendAsync(Records.Make("msg-1")).AsTask();
            await WaitUntil(() => log.QueuedNotTaken == 0); // batch [msg-1], waiting for the lock
            partway = log.AppendAsync(Records.Make("msg-2")).AsTask();
            conflicting = log.AppendAsync(Records.Make("msg-3")).AsTask();
            await WaitUntil(() => log.QueuedNotTaken == 2); // the next batch: [msg-2, msg-3]
        }

        Assert.That(await alone, Is.EqualTo(2));
        await Assert.ThatAsync(() => partway, Throws.InstanceOf<SqliteException>());
        await Assert.ThatAsync(() => conflicting, Throws.InstanceOf<SqliteException>());
        Assert.That(log.Get(3), Is.Null, "msg-2 was inserted as record 3 but never committed");
        Assert.That(log.FindByMessageId("msg-2"), Is.Empty);

        // The intruder's row leaves record 3 missing: the Merkle tree cannot take a leaf past a
        // gap, so the writer refuses to go on (fail closed) rather than log without evidence.
        var refused = await Assert.ThrowsAsync<MessageLogIntegrityException>(() => log.AppendAsync(Records.Make("msg-5")).AsTask());
        Assert.That(refused!.Problem, Is.EqualTo(MessageLogProblems.MissingRecord));
        Assert.That(log.Verify(), Is.EqualTo(new MessageLogVerification(false, 2, 3, MessageLogProblems.MissingRecord, "record 3 is missing (the next present is 4)")));
        Assert.That(log.QueueDepth, Is.Zero);
    }

    [TestCase(1_000, new[] { 1, 50 })]
    [TestCase(20, new[] { 1, 20, 20, 10 })]
    public async Task GroupCommit_WritesEverythingQueued_InOneTransaction_UpToTheBatchLimit(int maxBatch, int[] expectedBatches)
    {
        var logger = new CapturingLogger<SqliteMessageLog>();
        var log = SqliteMessageLog.Open(_folder.LogPath, new MessageLogOptions { MaxBatchSize = maxBatch }, new FakeTimeProvider(TestClock.Start), logger);
        await using (log)
        {
            Task<long>[] queued;
            using (WriteLock(_folder.LogPath))
            {
                var first = log.AppendAsync(Records.Make("msg-0")).AsTask();
                await WaitUntil(() => log.QueuedNotTaken == 0);
                queued = [first, .. Enumerable.Range(1, 50).Select(i => log.AppendAsync(Records.Make($"msg-{i}")).AsTask())];
                await WaitUntil(() => log.QueuedNotTaken == 50);
                Assert.That(log.QueueDepth, Is.EqualTo(51));
            }

            Assert.That(await Task.WhenAll(queued), Is.EqualTo(Enumerable.Range(1, 51).Select(i => (long)i)), "queue order is sequence order");
        }

        var batches = logger.Events.Where(e => e.Id.Id == 3007).Select(e => e.Message).ToList();
        Assert.That(batches, Has.Count.EqualTo(expectedBatches.Length));
        for (var i = 0; i < expectedBatches.Length; i++)
        {
            Assert.That(batches[i], Does.StartWith($"Committed {expectedBatches[i]} message log records"));
        }

        // Never record content in the operator's log.
        var sample = Records.Make("msg-1");
        Assert.That(logger.Events.Select(e => e.Message), Has.None.Contains(sample.UserId).And.None.Contains(sample.SubjectId!).And.None.Contains("msg-1"));
        Assert.That(logger.Events.Select(e => e.Id.Id), Is.All.InRange(3000, 3099));
    }

    [Test]
    public async Task Verify_Ranges()
    {
        await using var log = Records.Open(_folder.LogPath);
        for (var i = 1; i <= 10; i++)
        {
            await log.AppendAsync(Records.Make($"msg-{i}"));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(log.Verify(3, 7), Is.EqualTo(new MessageLogVerification(true, 5, null, null, null)));
            Assert.That(log.Verify(11), Is.EqualTo(new MessageLogVerification(true, 0, null, null, null)));
            Assert.That(log.Verify(9, 12).Problem, Is.EqualTo(MessageLogProblems.MissingRecord));
            Assert.That(log.Verify(9, 12).FirstBadSequence, Is.EqualTo(11));
            Assert.That(log.Verify(9, 12).RecordsChecked, Is.EqualTo(2));
            Assert.That(() => log.Verify(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        }
    }

    [Test]
    public async Task Verify_StreamsAcrossChunks()
    {
        await using var log = Records.Open(_folder.LogPath);
        var appends = Enumerable.Range(1, 2_345).Select(i => log.AppendAsync(Records.Make($"msg-{i}", bodyBytes: 16)).AsTask());
        await Task.WhenAll(appends);

        Assert.That(log.Verify(), Is.EqualTo(new MessageLogVerification(true, 2_345, null, null, null)));
        Assert.That(log.Verify(1_000, 2_001), Is.EqualTo(new MessageLogVerification(true, 1_002, null, null, null)));
    }

    /// <summary>Holds SQLite's write lock from another connection until disposed.</summary>
    internal static IDisposable WriteLock(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        var transaction = connection.BeginTransaction(deferred: false);
        return new Releaser(() =>
        {
            transaction.Rollback();
            transaction.Dispose();
            connection.Dispose();
        });
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("condition not reached within 30 s");
            }

            await Task.Delay(5);
        }
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
