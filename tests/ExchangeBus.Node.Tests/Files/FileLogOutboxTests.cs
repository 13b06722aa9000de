// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// Issue 6, "every step goes into the message log": a state change's records are written into
/// <c>files.db</c> with the state, so a crash between that commit and the message log's cannot
/// leave a state without its records (or log them twice). The crash points are made in process:
/// the log closed before the files.db commit reaches it, and a database dropped without closing
/// after the log has the records but before their rows are deleted.
/// </summary>
public sealed class FileLogOutboxTests
{
    private TempLogFolder _folder = null!;

    private string FilesPath => _folder.PathOf("files.db");

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task LogClosedBeforeTheRecordsReachIt_TheyAreAppendedAtTheNextStart_InOrder_Once()
    {
        var log = Records.Open(_folder.LogPath);
        var database = FilesDatabase.Open(FilesPath, log);
        await log.DisposeAsync();

        var (file, outbox, records) = Accepted("file-1");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => database.InsertSentAsync(file, outbox, records));
        Assert.That(database.GetSent(file.Description.Sender.ToString(), "file-1"), Is.Not.Null, "the state committed");
        database.Dispose();

        await using (var reopened = Records.Open(_folder.LogPath))
        {
            Assert.That(reopened.Count(), Is.Zero, "the crash kept the records out of the log");
            using var restarted = FilesDatabase.Open(FilesPath, reopened);
            var replay = await restarted.ReplayLogAsync();
            Assert.That(replay, Is.EqualTo(new LogReplay(Appended: 3, AlreadyLogged: 0, Kept: 0)));
            Assert.That(
                Enumerable.Range(1, 3).Select(s => reopened.Get(s)!.Record.Direction),
                Is.EqualTo(new[] { MessageDirection.FileAccepted, MessageDirection.FileManifestSent, MessageDirection.FileManifestSent }));
            Assert.That(reopened.Get(2)!.Record.Header, Is.EqualTo(records[1].Header));
            Assert.That(reopened.Verify().IsValid, Is.True);

            Assert.That(await restarted.ReplayLogAsync(), Is.EqualTo(new LogReplay(0, 0, 0)), "replayed rows are gone");
            Assert.That(reopened.Count(), Is.EqualTo(3));
        }
    }

    [Test]
    public async Task CrashAfterTheLogHasTheRecords_ReplayFindsThemThere_NoDuplicates()
    {
        await using var log = Records.Open(_folder.LogPath);
        var crashed = FilesDatabase.Open(FilesPath, log);
        var (file, outbox, records) = Accepted("file-1");
        Assert.That(await crashed.InsertSentAsync(file, outbox, records), Is.True);
        Assert.That(log.Count(), Is.EqualTo(3));
        Assert.That(OutboxRows(), Is.EqualTo(3), "rows go with a later transaction, not with a commit of their own");

        // Not disposed: as after kill -9, the rows are still there when the node starts again.
        using (var restarted = FilesDatabase.Open(FilesPath, log))
        {
            Assert.That(await restarted.ReplayLogAsync(), Is.EqualTo(new LogReplay(Appended: 0, AlreadyLogged: 3, Kept: 0)));
        }

        Assert.That(log.Count(), Is.EqualTo(3));
        Assert.That(OutboxRows(), Is.Zero);
        crashed.Dispose();
    }

    [Test]
    public async Task LoggedRows_GoWithTheNextWrite_AndAtClose()
    {
        await using var log = Records.Open(_folder.LogPath);
        using (var database = FilesDatabase.Open(FilesPath, log))
        {
            var first = Accepted("file-1");
            await database.InsertSentAsync(first.File, first.Outbox, first.Records);
            var second = Accepted("file-2");
            await database.InsertSentAsync(second.File, second.Outbox, second.Records);
            Assert.That(OutboxRows(), Is.EqualTo(3), "the first file's rows went with the second's transaction");
        }

        Assert.That(OutboxRows(), Is.Zero, "closing deletes the rest");
        Assert.That(log.Count(), Is.EqualTo(6));
    }

    [Test]
    public async Task AWriteThatChangesNothing_LogsNothing()
    {
        await using var log = Records.Open(_folder.LogPath);
        using var database = FilesDatabase.Open(FilesPath, log);
        var (file, outbox, records) = Accepted("file-1");
        Assert.That(await database.InsertSentAsync(file, outbox, records), Is.True);
        Assert.That(await database.InsertSentAsync(file, outbox, records), Is.False, "the id is taken");
        Assert.That(log.Count(), Is.EqualTo(3));

        var received = Received("file-9");
        var state = await database.InsertReceivedAsync(received, s => [State(received.Description, s)]);
        Assert.That(state, Is.EqualTo(DeliveryState.Delivered));
        var now = DateTimeOffset.UnixEpoch;
        var acknowledged = State(received.Description, DeliveryState.Acknowledged);
        Assert.That(await database.AcknowledgeAsync(received.Recipient, received.Description.Sender.ToString(), "file-9", now, acknowledged), Is.True);
        Assert.That(await database.AcknowledgeAsync(received.Recipient, received.Description.Sender.ToString(), "file-9", now, acknowledged), Is.False, "already acknowledged");
        Assert.That(await database.FailReceivedAsync(received.Recipient, received.Description.Sender.ToString(), "file-9", now, acknowledged), Is.False, "not delivered any more");
        Assert.That(
            Enumerable.Range(4, 2).Select(s => log.Get(s)!.Record.Status),
            Is.EqualTo(new[] { "delivered", "acknowledged" }));
        Assert.That(log.Count(), Is.EqualTo(5));
    }

    [Test]
    public async Task ARecordTheLogWouldRefuse_KeepsItsStateFromCommitting()
    {
        await using var log = Records.Open(_folder.LogPath);
        using var database = FilesDatabase.Open(FilesPath, log);
        var (file, outbox, records) = Accepted("file-1");
        var tooLong = records[0] with { Service = new string('s', MessageLogRecord.MaxTextBytes + 1) };

        await Assert.ThatAsync(() => database.InsertSentAsync(file, outbox, [tooLong, records[1]]), Throws.ArgumentException);
        Assert.That(database.GetSent(file.Description.Sender.ToString(), "file-1"), Is.Null, "nothing committed");
        Assert.That(OutboxRows(), Is.Zero);
        Assert.That(log.Count(), Is.Zero);
        Assert.That(await database.InsertSentAsync(file, outbox, records), Is.True, "the batch's other writes are unharmed, and the id is free");
    }

    [Test]
    public void Codec_RoundTripsEveryField_AndRefusesDamagedBytes()
    {
        var record = Records.Make("m-1", MessageDirection.FileManifestSent, subjectId: null) with
        {
            SignerCertificate = [1, 2, 3],
            OcspResponse = [],
        };
        record = record with { SignerCertificateSha256 = SHA256.HashData(record.SignerCertificate!) };
        var bytes = MessageLogRecordCodec.Encode(record);
        var back = MessageLogRecordCodec.Decode(bytes);
        Assert.That(back with { At = record.At }, Is.EqualTo(record).Using<MessageLogRecord>(Same));

        Assert.That(() => MessageLogRecordCodec.Decode(bytes[..^1]), Throws.TypeOf<InvalidDataException>());
        Assert.That(() => MessageLogRecordCodec.Decode([.. bytes, 0]), Throws.TypeOf<InvalidDataException>());
        var otherVersion = (byte[])bytes.Clone();
        otherVersion[0] = 2;
        Assert.That(() => MessageLogRecordCodec.Decode(otherVersion), Throws.TypeOf<InvalidDataException>());
    }

    [Test]
    public async Task ARowThatCannotBeRead_IsKept_AndTheRestReplayed()
    {
        await using var log = Records.Open(_folder.LogPath);
        var crashed = FilesDatabase.Open(FilesPath, log);
        await log.DisposeAsync();
        var (file, outbox, records) = Accepted("file-1");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => crashed.InsertSentAsync(file, outbox, records));
        crashed.Dispose();
        Records.Tamper(FilesPath, "UPDATE log_outbox SET record = x'09' WHERE id = 1;");

        await using var reopened = Records.Open(_folder.LogPath);
        using var restarted = FilesDatabase.Open(FilesPath, reopened);
        Assert.That(await restarted.ReplayLogAsync(), Is.EqualTo(new LogReplay(Appended: 2, AlreadyLogged: 0, Kept: 1)));
        Assert.That(OutboxRows(), Is.EqualTo(1));
    }

    [Test]
    public async Task ANodeStarting_PutsWhatACrashLeftInFilesDb_IntoItsMessageLog()
    {
        var left = Records.Make("left-by-a-crash", MessageDirection.FileState, bodyBytes: 0, logBody: false, status: "delivered");
        await using var bus = await BusFixture.StartAsync(prepared: b =>
        {
            // files.db as a crash leaves it: a record committed with its state, not yet in the log.
            Directory.CreateDirectory(b.ClientData.Paths.Files);
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = b.ClientData.Paths.FilesDatabase, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE log_outbox (id INTEGER PRIMARY KEY, record BLOB NOT NULL) STRICT; INSERT INTO log_outbox (record) VALUES ($r);";
            command.Parameters.AddWithValue("$r", MessageLogRecordCodec.Encode(left));
            command.ExecuteNonQuery();
            return Task.CompletedTask;
        });

        var found = bus.ClientNode.Log.FindByMessageId("left-by-a-crash");
        Assert.That(found, Has.Count.EqualTo(1));
        Assert.That(MessageLogRecordCodec.SameRecord(found[0].Record, left), Is.True);
    }

    private static bool Same(MessageLogRecord a, MessageLogRecord b) =>
        MessageLogRecordCodec.SameRecord(a, b) && a.UserId == b.UserId && a.SubjectId == b.SubjectId && a.Issue == b.Issue
        && a.Body.AsSpan().SequenceEqual(b.Body) && (a.Body is null) == (b.Body is null)
        && a.SignerCertificateSha256.AsSpan().SequenceEqual(b.SignerCertificateSha256)
        && a.SignerCertificate.AsSpan().SequenceEqual(b.SignerCertificate)
        && (a.OcspResponse is null) == (b.OcspResponse is null) && a.OcspResponse.AsSpan().SequenceEqual(b.OcspResponse);

    private long OutboxRows() => Records.Scalar(FilesPath, "SELECT COUNT(*) FROM log_outbox;");

    private static FileDescription Description(string fileId) => new(
        fileId, SubsystemId.Parse("VN/GOV/000.00.00.G01/dossier"), "dossier-1", 1, "VN-CITIZEN-1", "application/pdf", "a.pdf", 10,
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(fileId)), 1024 * 1024);

    private static (SentFile File, IReadOnlyList<OutboxEntry> Outbox, IReadOnlyList<MessageLogRecord> Records) Accepted(string fileId)
    {
        var description = Description(fileId);
        var now = DateTimeOffset.UnixEpoch;
        string[] recipients = ["VN/GOV/000.00.00.H01/registry", "VN/GOV/000.00.00.H02/tax"];
        var outbox = recipients.Select(r => new OutboxEntry(description.Sender.ToString(), fileId, r, DeliveryState.Accepted, 0, now, string.Empty, 0, [1], null, now)).ToList();
        IReadOnlyList<MessageLogRecord> records =
        [
            Records.Make(fileId + "-accepted", MessageDirection.FileAccepted, bodyBytes: 0, logBody: false),
            Records.Make(fileId + "-manifest-1", MessageDirection.FileManifestSent, bodyBytes: 0, logBody: false),
            Records.Make(fileId + "-manifest-2", MessageDirection.FileManifestSent, bodyBytes: 0, logBody: false),
        ];
        return (new SentFile(description, [], [1], now, recipients), outbox, records);
    }

    private static InboxEntry Received(string fileId) => new(
        "VN/GOV/000.00.00.H01/registry", Description(fileId), "node-1", [1], [2], DeliveryState.Delivered, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    private static MessageLogRecord State(FileDescription file, DeliveryState state) => new()
    {
        MessageId = file.FileId,
        Direction = MessageDirection.FileState,
        Client = file.Sender.ToString(),
        Service = "VN/GOV/000.00.00.H01/registry/files",
        Status = DeliveryStates.Name(state),
        Header = [],
        BodySha256 = file.Sha256,
        Signature = [],
    };
}
