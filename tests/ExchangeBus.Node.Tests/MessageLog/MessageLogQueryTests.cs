// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Node.MessageLog;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.MessageLog;

/// <summary>The auditors' reads on a real SQLite file: filters, stable paging, evidence beside the records.</summary>
public sealed class MessageLogQueryTests
{
    private TempLogFolder _folder = null!;
    private FakeTimeProvider _clock = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempLogFolder();
        _clock = new FakeTimeProvider(TestClock.Start);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task Query_BySubject_ReturnsOnlyThatCitizensRecords_InTimeOrder()
    {
        await using var log = Records.Open(_folder.LogPath, _clock);
        for (var i = 0; i < 10; i++)
        {
            await log.AppendAsync(Records.Make($"m{i}", subjectId: i % 3 == 0 ? "citizen-A" : "citizen-B"));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        using var reader = MessageLogReader.Open(_folder.LogPath);
        var page = reader.Query(new MessageLogQuery { SubjectId = "citizen-A" });

        Assert.That(page.Records.Select(r => r.MessageId), Is.EqualTo(new[] { "m0", "m3", "m6", "m9" }));
        Assert.That(page.Next, Is.Null);
    }

    [Test]
    public async Task Query_Pages_AreStable_WhileTheLogGrows()
    {
        await using var log = Records.Open(_folder.LogPath, _clock);
        for (var i = 0; i < 25; i++)
        {
            await log.AppendAsync(Records.Make($"m{i:D2}"));
            _clock.Advance(TimeSpan.FromMilliseconds(i % 2)); // pairs share a millisecond: the sequence breaks the tie
        }

        using var reader = MessageLogReader.Open(_folder.LogPath);
        var seen = new List<string>();
        MessageLogCursor? cursor = null;
        var pages = 0;
        do
        {
            var page = reader.Query(new MessageLogQuery { PageSize = 10, After = cursor });
            seen.AddRange(page.Records.Select(r => r.MessageId));
            cursor = page.Next;
            pages++;
            // Appended between pages: later in time, so it lands at the end, never inside a page already read.
            await log.AppendAsync(Records.Make($"late{pages}"));
        }
        while (cursor is not null);

        Assert.That(seen.Take(25), Is.EqualTo(Enumerable.Range(0, 25).Select(i => $"m{i:D2}")));
        Assert.That(seen, Is.Unique);
    }

    [Test]
    public async Task Query_TimeRange_IsInclusiveFromExclusiveTo_AndFiltersCombine()
    {
        await using var log = Records.Open(_folder.LogPath, _clock);
        var start = _clock.GetUtcNow();
        for (var i = 0; i < 6; i++)
        {
            await log.AppendAsync(Records.Make($"m{i}", status: i == 3 ? "Server.ServerProxy.AccessDenied" : MessageLogRecord.StatusOk));
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        using var reader = MessageLogReader.Open(_folder.LogPath);
        var range = reader.Query(new MessageLogQuery { From = start.AddMinutes(1), To = start.AddMinutes(4) });
        var refused = reader.Query(new MessageLogQuery { From = start, Status = "Server.ServerProxy.AccessDenied" });

        Assert.That(range.Records.Select(r => r.MessageId), Is.EqualTo(new[] { "m1", "m2", "m3" }));
        Assert.That(refused.Records.Select(r => r.MessageId), Is.EqualTo(new[] { "m3" }));
    }

    [Test]
    public async Task Query_PartyMember_SeesOnlyExchangesItsMemberTookPartIn()
    {
        await using var log = Records.Open(_folder.LogPath, _clock);
        await log.AppendAsync(Records.Make("ours"));
        await log.AppendAsync(Records.Make("theirs") with { Client = "VN/GOV/000.00.00.X99/other", Service = "VN/GOV/000.00.00.Y99/x/code" });

        using var reader = MessageLogReader.Open(_folder.LogPath);

        Assert.That(reader.Query(new MessageLogQuery { PartyMember = "VN/GOV/000.00.00.G01" }).Records.Select(r => r.MessageId), Is.EqualTo(new[] { "ours" }));
        Assert.That(reader.Query(new MessageLogQuery { PartyMember = "VN/GOV/000.00.00.H01" }).Records.Select(r => r.MessageId), Is.EqualTo(new[] { "ours" }));
        Assert.That(reader.Query(new MessageLogQuery { PartyMember = "VN/GOV/000.00.00.Y99" }).Records.Select(r => r.MessageId), Is.EqualTo(new[] { "theirs" }));
        Assert.That(reader.Query(new MessageLogQuery { PartyMember = "VN/GOV/000.00.00.G0" }).Records, Is.Empty, "a member code that is a prefix of another is not that member");
    }

    [Test]
    public async Task Evidence_CertificateAndOcsp_AreKeptOnceAndReturnedWithTheRecord()
    {
        var certificate = Encoding.UTF8.GetBytes("certificate DER stand-in");
        var ocsp = Encoding.UTF8.GetBytes("ocsp DER stand-in");
        await using var log = Records.Open(_folder.LogPath, _clock);
        long last = 0;
        for (var i = 0; i < 3; i++)
        {
            last = await log.AppendAsync(Records.Make($"m{i}") with
            {
                SignerCertificate = certificate,
                SignerCertificateSha256 = SHA256.HashData(certificate),
                OcspResponse = ocsp,
            });
        }

        using var reader = MessageLogReader.Open(_folder.LogPath);
        var evidence = reader.GetEvidence(last)!;

        Assert.That(evidence.SignerCertificate, Is.EqualTo(certificate));
        Assert.That(evidence.OcspResponse, Is.EqualTo(ocsp));
        Assert.That(evidence.Entry.Record.MessageId, Is.EqualTo("m2"));
        Assert.That(CountRows("blobs"), Is.EqualTo(2), "one certificate, one OCSP response, whatever the number of records");
        Assert.That(reader.GetEvidence(last + 1), Is.Null);
        var range = reader.ReadRange(1, last, 2);
        Assert.That(range.Entries.Select(e => e.Sequence), Is.EqualTo(new long[] { 1, 2 }));
        Assert.That(range.NextSequence, Is.EqualTo(3));
        Assert.That(range.CertificatesBySha256Hex.Values.Single(), Is.EqualTo(certificate));
    }

    [Test]
    public void Append_WithACertificateThatIsNotTheHashedOne_IsRefused()
    {
        var log = Records.Open(_folder.LogPath, _clock);
        try
        {
            var record = Records.Make("m") with { SignerCertificate = [1, 2, 3] };

            var ex = Assert.Throws<ArgumentException>(() => log.AppendAsync(record));

            Assert.That(ex!.Message, Does.Contain("SignerCertificateSha256 is not the SHA-256 of SignerCertificate"));
        }
        finally
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [Test]
    public async Task NewLog_AndItsWriteAheadFiles_AreOwnerOnly()
    {
        await using var log = Records.Open(_folder.LogPath, _clock);
        await log.AppendAsync(Records.Make("m"));

        foreach (var file in new[] { _folder.LogPath, _folder.LogPath + "-wal", _folder.LogPath + "-shm" })
        {
            Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), file);
        }
    }

    [TestCase("")]
    [TestCase("12")]
    [TestCase("12.")]
    [TestCase(".5")]
    [TestCase("-1.5")]
    [TestCase("1.0")]
    [TestCase("a.b")]
    public void Cursor_Malformed_DoesNotParse(string text) =>
        Assert.That(MessageLogCursor.TryParse(text, out _), Is.False);

    [Test]
    public void Cursor_RoundTrips() =>
        Assert.That(MessageLogCursor.TryParse(new MessageLogCursor(1_700_000_000_123, 42).Format(), out var cursor) ? cursor : default,
            Is.EqualTo(new MessageLogCursor(1_700_000_000_123, 42)));

    private long CountRows(string table)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_folder.LogPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table};";
        return (long)command.ExecuteScalar()!;
    }
}
