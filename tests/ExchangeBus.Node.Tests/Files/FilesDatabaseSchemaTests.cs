// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Tests.MessageLog;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// files.db had no schema version before the shared SQLite plumbing; its schema is now
/// migration 1. A file written by the code before keeps its rows and opens unchanged.
/// </summary>
public sealed class FilesDatabaseSchemaTests
{
    // FilesDatabase.Schema as it was before versions (run as it was, on every open), verbatim.
    private const string SchemaBeforeVersions = """
        CREATE TABLE IF NOT EXISTS files (
            sender TEXT NOT NULL, file_id TEXT NOT NULL, dossier_id TEXT NOT NULL, dossier_version INTEGER NOT NULL,
            subject_id TEXT NOT NULL, content_type TEXT NOT NULL, file_name TEXT NOT NULL, size INTEGER NOT NULL,
            sha256 BLOB NOT NULL, chunk_bytes INTEGER NOT NULL, recipients TEXT NOT NULL, accepted_at INTEGER NOT NULL,
            acceptance BLOB NOT NULL, chunk_hashes BLOB NOT NULL,
            PRIMARY KEY (sender, file_id)) STRICT;
        DROP INDEX IF EXISTS files_by_dossier;
        CREATE INDEX IF NOT EXISTS files_listing ON files(sender, dossier_id, dossier_version, accepted_at, file_id);
        CREATE INDEX IF NOT EXISTS files_by_content ON files(sha256);
        CREATE TABLE IF NOT EXISTS outbox (
            sender TEXT NOT NULL, file_id TEXT NOT NULL, recipient TEXT NOT NULL, state INTEGER NOT NULL,
            attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, reason TEXT NOT NULL, resumed_from INTEGER NOT NULL,
            updated_at INTEGER NOT NULL, manifest BLOB NOT NULL, receipt BLOB,
            PRIMARY KEY (sender, file_id, recipient)) STRICT;
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_attempt_at) WHERE state IN (1, 2);
        CREATE INDEX IF NOT EXISTS outbox_states ON outbox(sender, file_id, state);
        CREATE TABLE IF NOT EXISTS inbox (
            recipient TEXT NOT NULL, sender TEXT NOT NULL, file_id TEXT NOT NULL, sender_node TEXT NOT NULL,
            dossier_id TEXT NOT NULL, dossier_version INTEGER NOT NULL, subject_id TEXT NOT NULL, content_type TEXT NOT NULL,
            file_name TEXT NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL, chunk_bytes INTEGER NOT NULL,
            state INTEGER NOT NULL, received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
            manifest BLOB NOT NULL, receipt BLOB NOT NULL,
            PRIMARY KEY (recipient, sender, file_id)) STRICT;
        DROP INDEX IF EXISTS inbox_pending;
        CREATE INDEX IF NOT EXISTS inbox_arrivals ON inbox(recipient) WHERE state = 3;
        DROP INDEX IF EXISTS inbox_by_dossier;
        CREATE INDEX IF NOT EXISTS inbox_listing ON inbox(recipient, dossier_id, dossier_version, received_at, sender, file_id);
        CREATE INDEX IF NOT EXISTS inbox_by_content ON inbox(sha256);
        CREATE INDEX IF NOT EXISTS inbox_by_file ON inbox(recipient, file_id);
        CREATE TABLE IF NOT EXISTS log_outbox (id INTEGER PRIMARY KEY, record BLOB NOT NULL) STRICT;
        """;

    private TempLogFolder _folder = null!;

    private string FilesPath => _folder.PathOf("files.db");

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task Open_FileFromBeforeVersions_KeepsItsRows_AndGetsVersion1()
    {
        using (var old = new SqliteConnection($"Data Source={FilesPath};Pooling=False"))
        {
            old.Open();
            Sql.Execute(old, null, "PRAGMA journal_mode=WAL;");
            Sql.Execute(old, null, SchemaBeforeVersions);
            Sql.Execute(old, null, """
                INSERT INTO files (sender, file_id, dossier_id, dossier_version, subject_id, content_type, file_name, size, sha256, chunk_bytes, recipients, accepted_at, acceptance, chunk_hashes)
                VALUES ('VN/GOV/000.00.00.G01/dossier', 'file-1', 'd-1', 1, '', 'application/pdf', 'a.pdf', 3, zeroblob(32), 65536, 'VN/GOV/000.00.00.H01/registry', 0, x'01', x'');
                INSERT INTO outbox (sender, file_id, recipient, state, attempts, next_attempt_at, reason, resumed_from, updated_at, manifest, receipt)
                VALUES ('VN/GOV/000.00.00.G01/dossier', 'file-1', 'VN/GOV/000.00.00.H01/registry', 1, 0, 0, '', 0, 0, x'02', NULL);
                """);
        }

        await using var log = Records.Open(_folder.LogPath);
        using (var database = FilesDatabase.Open(FilesPath, log))
        {
            var sent = database.GetSent("VN/GOV/000.00.00.G01/dossier", "file-1");
            Assert.That(sent, Is.Not.Null);
            Assert.That(sent!.Description.FileName, Is.EqualTo("a.pdf"));
            Assert.That(database.Outbox("VN/GOV/000.00.00.G01/dossier", "file-1").Single().State, Is.EqualTo(DeliveryState.Accepted));
            Assert.That(database.Due(DateTimeOffset.UnixEpoch, 10), Has.Count.EqualTo(1));
        }

        Assert.That(Versions(), Is.EqualTo("1"));
        using (FilesDatabase.Open(FilesPath, log))
        {
            Assert.That(Versions(), Is.EqualTo("1"), "opened again: nothing applied twice");
        }
    }

    [Test]
    public async Task Open_NewerFile_RefusedWithItsCode()
    {
        await using var log = Records.Open(_folder.LogPath);
        FilesDatabase.Open(FilesPath, log).Dispose();
        using (var connection = new SqliteConnection($"Data Source={FilesPath};Pooling=False"))
        {
            connection.Open();
            Sql.Execute(connection, null, "INSERT INTO schema_version (version) VALUES ($a);", FilesDatabase.CurrentSchemaVersion + 1);
        }

        var refusal = Assert.Throws<StorageException>(() => FilesDatabase.Open(FilesPath, log));
        Assert.That(refusal!.Code, Is.EqualTo(StorageErrors.SchemaTooNew));
    }

    private string? Versions()
    {
        using var connection = new SqliteConnection($"Data Source={FilesPath};Pooling=False;Mode=ReadOnly");
        connection.Open();
        return Sql.Scalar(connection, null, "SELECT group_concat(version) FROM schema_version;") as string;
    }
}
