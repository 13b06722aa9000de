// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Tests.Storage;

/// <summary>
/// The group-commit writer the message log and file sync share: a write completes only once its
/// batch is committed, a failed commit fails every write of its batch, and the writer goes on
/// on a fresh connection. Batches are shaped without timing: a write that holds the writer inside
/// its transaction until the test lets it go.
/// </summary>
public sealed class GroupCommitWriterTests
{
    private const string Schema = """
        CREATE TABLE parent (id INTEGER PRIMARY KEY);
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
        INSERT INTO parent (id) VALUES (1);
        """;

    private TempDatabase _database = null!;

    [SetUp]
    public void SetUp()
    {
        _database = new TempDatabase();
        using var connection = TestWriter.OpenConnection(_database.Path);
        SqliteMigrations.Migrate(connection, [Schema], "test database");
    }

    [TearDown]
    public void TearDown() => _database.Dispose();

    [Test]
    public async Task WriteAsync_CompletesOnlyOnceItsBatchIsCommitted()
    {
        await using var writer = new TestWriter(_database.Path, isolate: false);
        using var hold = new Hold();
        var first = writer.WriteAsync(t => hold.Wait(() => Insert(t, 10))).AsTask();
        hold.Entered.Wait();
        var second = writer.WriteAsync(t => Insert(t, 11)).AsTask();

        Assert.That(first.IsCompleted || second.IsCompleted, Is.False, "the first batch has not committed");
        Assert.That(CommittedChildren(), Is.Empty);

        hold.Release();
        await Task.WhenAll(first, second);

        Assert.That(CommittedChildren(), Is.EqualTo(new[] { 10L, 11L }));
        Assert.That(writer.Batches, Is.EqualTo(new[] { 1, 1 }), "the second write waited for the next batch");
        Assert.That(writer.Pending, Is.Zero);
    }

    [Test]
    public async Task WritesQueuedDuringACommit_ShareTheNextTransaction()
    {
        await using var writer = new TestWriter(_database.Path, isolate: true);
        using var hold = new Hold();
        var first = writer.WriteAsync(t => hold.Wait(() => Insert(t, 10))).AsTask();
        hold.Entered.Wait();
        var queued = Enumerable.Range(11, 20).Select(id => writer.WriteAsync(t => Insert(t, id)).AsTask()).ToArray();
        Assert.That(writer.Queued, Is.EqualTo(20));

        hold.Release();
        await first;
        await Task.WhenAll(queued);

        Assert.That(writer.Batches, Is.EqualTo(new[] { 1, 20 }));
        Assert.That(CommittedChildren(), Has.Count.EqualTo(21));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task FailedCommit_FailsEveryWriteOfTheBatch_AndTheNextBatchCommits(bool isolate)
    {
        await using var writer = new TestWriter(_database.Path, isolate);
        using var hold = new Hold();
        var first = writer.WriteAsync(t => hold.Wait(() => Insert(t, 10))).AsTask();
        hold.Entered.Wait();

        // Each write succeeds on its own; the orphan's deferred foreign key fails the COMMIT.
        var good = writer.WriteAsync(t => Insert(t, 20)).AsTask();
        var orphan = writer.WriteAsync(t => Insert(t, 21, parent: 99)).AsTask();
        var alsoGood = writer.WriteAsync(t => Insert(t, 22)).AsTask();
        hold.Release();
        await first;

        foreach (var write in new[] { good, orphan, alsoGood })
        {
            // SQLITE_CONSTRAINT, from the commit.
            await Assert.ThatAsync(() => write, Throws.InstanceOf<SqliteException>().With.Property(nameof(SqliteException.SqliteErrorCode)).EqualTo(19));
        }

        Assert.That(writer.Failed, Is.EqualTo(new[] { 3 }));
        Assert.That(CommittedChildren(), Is.EqualTo(new[] { 10L }), "nothing of the failed batch");

        await writer.WriteAsync(t => Insert(t, 30));
        Assert.That(CommittedChildren(), Is.EqualTo(new[] { 10L, 30L }));
        Assert.That(writer.Connections, Is.EqualTo(2), "the batch after a failure runs on a fresh connection");
    }

    [Test]
    public async Task IsolatedWrites_AWriteThatThrowsFailsAlone()
    {
        await using var writer = new TestWriter(_database.Path, isolate: true);
        using var hold = new Hold();
        var first = writer.WriteAsync(t => hold.Wait(() => Insert(t, 10))).AsTask();
        hold.Entered.Wait();
        var good = writer.WriteAsync(t => Insert(t, 20)).AsTask();
        var duplicate = writer.WriteAsync(t => Insert(t, 10)).AsTask();
        var alsoGood = writer.WriteAsync(t => Insert(t, 22)).AsTask();
        hold.Release();

        await Task.WhenAll(first, good, alsoGood);
        await Assert.ThatAsync(() => duplicate, Throws.InstanceOf<SqliteException>());
        Assert.That(CommittedChildren(), Is.EqualTo(new[] { 10L, 20L, 22L }));
    }

    [Test]
    public async Task WritesThatBuildOnEachOther_OneThatThrowsFailsTheBatch()
    {
        await using var writer = new TestWriter(_database.Path, isolate: false);
        using var hold = new Hold();
        var first = writer.WriteAsync(t => hold.Wait(() => Insert(t, 10))).AsTask();
        hold.Entered.Wait();
        var good = writer.WriteAsync(t => Insert(t, 20)).AsTask();
        var duplicate = writer.WriteAsync(t => Insert(t, 10)).AsTask();
        hold.Release();
        await first;

        await Assert.ThatAsync(() => good, Throws.InstanceOf<SqliteException>());
        await Assert.ThatAsync(() => duplicate, Throws.InstanceOf<SqliteException>());
        Assert.That(CommittedChildren(), Is.EqualTo(new[] { 10L }));
    }

    [Test]
    public async Task Dispose_CommitsEverythingQueued_ThenRefusesWrites()
    {
        var writer = new TestWriter(_database.Path, isolate: true);
        var writes = Enumerable.Range(100, 50).Select(id => writer.WriteAsync(t => Insert(t, id)).AsTask()).ToArray();

        await writer.DisposeAsync();

        Assert.That(await Task.WhenAll(writes), Has.All.EqualTo(1));
        Assert.That(CommittedChildren(), Has.Count.EqualTo(50));
        Assert.That(writer.Stops, Is.EqualTo(1));
        Assert.Throws<ObjectDisposedException>(() => writer.WriteAsync(t => Insert(t, 1)));
    }

    [Test]
    public async Task FullQueue_CancellationWhileWaitingWritesNothing()
    {
        await using var writer = new TestWriter(_database.Path, isolate: false, queueCapacity: 1);
        using var hold = new Hold();
        using var cancel = new CancellationTokenSource();
        var first = writer.WriteAsync(t => hold.Wait(() => Insert(t, 10))).AsTask();
        hold.Entered.Wait();
        var second = writer.WriteAsync(t => Insert(t, 11)).AsTask(); // the one queue slot
        var third = writer.WriteAsync(t => Insert(t, 12), cancellationToken: cancel.Token).AsTask(); // waits for room

        Assert.That(third.IsCompleted, Is.False);
        await cancel.CancelAsync();
        await Assert.ThatAsync(() => third, Throws.InstanceOf<OperationCanceledException>());

        hold.Release();
        await Task.WhenAll(first, second);
        Assert.That(CommittedChildren(), Is.EqualTo(new[] { 10L, 11L }));
    }

    private static int Insert(SqliteTransaction transaction, long id, long parent = 1) =>
        Sql.Execute(transaction.Connection!, transaction, "INSERT INTO child (id, parent_id) VALUES ($a, $b);", id, parent);

    private List<long> CommittedChildren()
    {
        using var connection = SqliteConnections.Open(_database.Path, new SqliteOpenOptions { QueryOnly = true });
        using var command = Sql.Command(connection, null, "SELECT id FROM child ORDER BY id;");
        return Sql.ReadAll(command, r => r.GetInt64(0));
    }

    /// <summary>Keeps the writer inside a write (and so inside its batch's transaction) until released.</summary>
    private sealed class Hold : IDisposable
    {
        private readonly ManualResetEventSlim _released = new();

        public ManualResetEventSlim Entered { get; } = new();

        public T Wait<T>(Func<T> then)
        {
            Entered.Set();
            _released.Wait();
            return then();
        }

        public void Release() => _released.Set();

        public void Dispose()
        {
            _released.Set();
            _released.Dispose();
            Entered.Dispose();
        }
    }

    private sealed class TestWriter : GroupCommitWriter
    {
        private readonly string _path;

        public TestWriter(string path, bool isolate, int? queueCapacity = null)
            : base(new GroupCommitOptions { Name = "test-writer", IsolateWrites = isolate, QueueCapacity = queueCapacity })
        {
            _path = path;
            Start(null);
        }

        public List<int> Batches { get; } = [];

        public List<int> Failed { get; } = [];

        public int Connections { get; private set; }

        public int Stops { get; private set; }

        public static SqliteConnection OpenConnection(string path) =>
            SqliteConnections.Open(path, new SqliteOpenOptions { Wal = true, ForeignKeys = true, Synchronous = SqliteSynchronous.Full });

        protected override SqliteConnection Connect()
        {
            Connections++;
            return OpenConnection(_path);
        }

        protected override void BatchCommitted(int writes, TimeSpan elapsed) => Batches.Add(writes);

        protected override void BatchFailed(int writes, Exception exception) => Failed.Add(writes);

        protected override void Stopped() => Stops++;
    }
}
