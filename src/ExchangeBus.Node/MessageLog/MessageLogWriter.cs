// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The message log's group-commit writer: owns the writer connection, its prepared statements
/// and the chain's tail (last sequence, last hash, the Merkle frontier). Every member but
/// <see cref="AppendAsync"/> runs on the writer thread. A failed batch leaves the tail where
/// the last commit put it; the next batch reads it again from the file on a fresh connection.
/// </summary>
internal sealed class MessageLogWriter : GroupCommitWriter
{
    /// <summary>A batch stops growing past this many payload bytes, so one transaction (and the WAL) stays modest.</summary>
    private const long MaxBatchBytes = 32L * 1024 * 1024;

    private readonly string _path;
    private readonly MessageLogOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly MessageLogReader _reader;

    private SqliteCommand? _insert;
    private SqliteParameter[] _parameters = [];
    private SqliteCommand? _insertBlob;
    private SqliteCommand? _insertOcsp;
    private SqliteMerkleNodes? _merkle;

    // Certificates and OCSP responses already committed to the blobs table: the same few repeat
    // on every record for minutes, and an INSERT OR IGNORE per record is a b-tree search each.
    // Added only once their batch commits (a rolled-back batch takes its rows with it).
    private readonly HashSet<byte[]> _storedBlobs = new(BlobHashComparer.Instance);
    private readonly List<byte[]> _batchBlobs = [];
    private readonly byte[] _leaf = new byte[MerkleHash.Size];
    private MerkleTreeBuilder _tree;
    private IncrementalHash _hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    // The committed tail, and the batch's running one.
    private long _lastSequence;
    private byte[] _lastHash;
    private long _sequence;
    private byte[] _previous;

    public MessageLogWriter(
        string path, MessageLogOptions options, TimeProvider clock, ILogger logger, MessageLogReader reader,
        SqliteConnection connection, long lastSequence, byte[] lastHash, MerkleTreeBuilder tree)
        : base(new GroupCommitOptions
        {
            Name = "message-log-writer",
            QueueCapacity = options.QueueCapacity,
            MaxBatchSize = options.MaxBatchSize,
            MaxBatchBytes = MaxBatchBytes,
        })
    {
        _path = path;
        _options = options;
        _clock = clock;
        _logger = logger;
        _reader = reader;
        _lastSequence = _sequence = lastSequence;
        _lastHash = _previous = lastHash;
        _tree = tree;
        Prepare(connection);
        Start(connection);
    }

    public ValueTask<long> AppendAsync(MessageLogRecord record, CancellationToken cancellationToken) =>
        WriteAsync(transaction => Append(record), record.Header.Length + (record.Body?.Length ?? 0), cancellationToken);

    protected override SqliteConnection Connect()
    {
        SqliteConnection connection;
        try
        {
            connection = MessageLogDatabase.OpenWriter(_path, _options);
        }
        catch (Exception e)
        {
            MessageLogLog.ReopenFailed(_logger, e);
            throw;
        }

        try
        {
            (_lastSequence, _lastHash) = MessageLogDatabase.ReadTail(connection);
            Prepare(connection);

            // The failed batch may have grown the tree in memory: start again from the file.
            _tree = SqliteMerkleNodes.RestoreOrRebuild(connection, _lastSequence, records => MessageLogLog.MerkleRebuilt(_logger, records));
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        MessageLogLog.TailReloaded(_logger, _lastSequence);
        return connection;
    }

    protected override void BatchStarting(SqliteTransaction transaction)
    {
        _insert!.Transaction = transaction;
        _insertBlob!.Transaction = transaction;
        _insertOcsp!.Transaction = transaction;
        _merkle!.Transaction = transaction;
        _sequence = _lastSequence;
        _previous = _lastHash;
    }

    protected override void BatchCommitted(int writes, TimeSpan elapsed)
    {
        // Only a committed batch moves the tail.
        _lastSequence = _sequence;
        _lastHash = _previous;
        if (_storedBlobs.Count + _batchBlobs.Count > 4_096)
        {
            _storedBlobs.Clear();
        }

        _storedBlobs.UnionWith(_batchBlobs);
        _batchBlobs.Clear();
        MessageLogLog.BatchCommitted(_logger, writes, _lastSequence, elapsed.TotalMilliseconds);
    }

    protected override void BatchFailed(int writes, Exception exception)
    {
        MessageLogLog.BatchFailed(_logger, writes, exception);

        // A half-hashed record must not leak into the next batch.
        _batchBlobs.Clear();
        _hasher.Dispose();
        _hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    protected override void Closing(SqliteConnection connection)
    {
        _insert?.Dispose();
        _insert = null;
        _insertBlob?.Dispose();
        _insertBlob = null;
        _insertOcsp?.Dispose();
        _insertOcsp = null;
        _merkle?.Dispose();
        _merkle = null;
    }

    protected override void Crashed(Exception exception) => MessageLogLog.WriterCrashed(_logger, exception);

    // Readers first, so that the writer's connection is the last to close and can checkpoint
    // and remove the write-ahead log.
    protected override void Stopping(SqliteConnection? connection) => _reader.Dispose();

    protected override void Stopped()
    {
        _hasher.Dispose();
        MessageLogLog.Closed(_logger, _path, _lastSequence);
    }

    private long Append(MessageLogRecord record)
    {
        var sequence = _sequence + 1;
        var atMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var hash = MessageLogHash.Compute(_hasher, _previous, sequence, atMs, record);
        Bind(sequence, atMs, record, _previous, hash);
        _insert!.ExecuteNonQuery();
        WriteEvidence(sequence, record);
        MerkleHash.HashLeaf(hash, _leaf);
        _tree.Append(_leaf, _merkle!);
        _sequence = sequence;
        _previous = hash;
        return sequence;
    }

    private void Prepare(SqliteConnection connection)
    {
        var insert = connection.CreateCommand();
        insert.CommandText = MessageLogDatabase.Insert;
        _parameters =
        [
            insert.Parameters.Add("$seq", SqliteType.Integer),
            insert.Parameters.Add("$at", SqliteType.Integer),
            insert.Parameters.Add("$message_id", SqliteType.Text),
            insert.Parameters.Add("$direction", SqliteType.Integer),
            insert.Parameters.Add("$client", SqliteType.Text),
            insert.Parameters.Add("$service", SqliteType.Text),
            insert.Parameters.Add("$user_id", SqliteType.Text),
            insert.Parameters.Add("$subject_id", SqliteType.Text),
            insert.Parameters.Add("$issue", SqliteType.Text),
            insert.Parameters.Add("$status", SqliteType.Text),
            insert.Parameters.Add("$body_sha256", SqliteType.Blob),
            insert.Parameters.Add("$signature", SqliteType.Blob),
            insert.Parameters.Add("$signer_cert_sha256", SqliteType.Blob),
            insert.Parameters.Add("$correlation_id", SqliteType.Text),
            insert.Parameters.Add("$prev_hash", SqliteType.Blob),
            insert.Parameters.Add("$hash", SqliteType.Blob),
            insert.Parameters.Add("$header", SqliteType.Blob),
            insert.Parameters.Add("$body", SqliteType.Blob),
        ];
        _insert = insert;
        _insertBlob = connection.CreateCommand();
        _insertBlob.CommandText = MessageLogDatabase.InsertBlob;
        _insertBlob.Parameters.Add("$sha256", SqliteType.Blob);
        _insertBlob.Parameters.Add("$der", SqliteType.Blob);
        _insertOcsp = connection.CreateCommand();
        _insertOcsp.CommandText = MessageLogDatabase.InsertRecordOcsp;
        _insertOcsp.Parameters.Add("$seq", SqliteType.Integer);
        _insertOcsp.Parameters.Add("$sha256", SqliteType.Blob);
        _merkle = SqliteMerkleNodes.ForWriting(connection, 0);
    }

    /// <summary>The certificate and OCSP response of a record, each stored once by its hash.</summary>
    private void WriteEvidence(long sequence, MessageLogRecord record)
    {
        if (record.SignerCertificate is { } certificate)
        {
            InsertBlob(record.SignerCertificateSha256!, certificate);
        }

        if (record.OcspResponse is { } ocsp)
        {
            var hash = SHA256.HashData(ocsp);
            InsertBlob(hash, ocsp);
            _insertOcsp!.Parameters[0].Value = sequence;
            _insertOcsp.Parameters[1].Value = hash;
            _insertOcsp.ExecuteNonQuery();
        }
    }

    private void InsertBlob(byte[] sha256, byte[] der)
    {
        if (_storedBlobs.Contains(sha256) || _batchBlobs.Exists(b => b.AsSpan().SequenceEqual(sha256)))
        {
            return;
        }

        _batchBlobs.Add(sha256);
        _insertBlob!.Parameters[0].Value = sha256;
        _insertBlob.Parameters[1].Value = der;
        _insertBlob.ExecuteNonQuery();
    }

    private void Bind(long sequence, long atMs, MessageLogRecord record, byte[] previousHash, byte[] hash)
    {
        var p = _parameters;
        p[0].Value = sequence;
        p[1].Value = atMs;
        p[2].Value = record.MessageId;
        p[3].Value = (long)record.Direction;
        p[4].Value = record.Client;
        p[5].Value = record.Service;
        p[6].Value = record.UserId;
        p[7].Value = (object?)MessageLogHash.NormalizeSubject(record.SubjectId) ?? DBNull.Value;
        p[8].Value = record.Issue;
        p[9].Value = record.Status;
        p[10].Value = record.BodySha256;
        p[11].Value = record.Signature;
        p[12].Value = (object?)record.SignerCertificateSha256 ?? DBNull.Value;
        p[13].Value = record.CorrelationId;
        p[14].Value = previousHash;
        p[15].Value = hash;
        p[16].Value = record.Header;
        p[17].Value = (object?)record.Body ?? DBNull.Value;
    }
}

/// <summary>SHA-256 values as set keys: equal when all 32 bytes are.</summary>
internal sealed class BlobHashComparer : IEqualityComparer<byte[]>
{
    public static readonly BlobHashComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => obj.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(obj) : obj.Length;
}
