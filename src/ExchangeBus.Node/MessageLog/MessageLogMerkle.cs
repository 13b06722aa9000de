// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// The log's Merkle tree in its SQLite file (docs/design/merkle.md): leaf i is record i + 1,
/// its leaf input the record's 32-byte hash. Levels 1 and up are rows of <c>merkle_nodes</c>,
/// written by the log's writer in the same transaction as the records that complete them; a
/// leaf hash is recomputed from <c>records.hash</c>, so the table holds about one row per
/// record instead of two.
/// </summary>
internal sealed class SqliteMerkleNodes : IMerkleNodeSource, IMerkleNodeSink, IDisposable
{
    public const string MissingNode = "MessageLog.MissingMerkleNode";

    private readonly SqliteCommand _leaf;
    private readonly SqliteCommand _node;
    private readonly SqliteCommand? _insert;
    private readonly byte[] _buffer = new byte[MerkleHash.Size];

    private SqliteMerkleNodes(SqliteConnection connection, long leafCount, bool writable)
    {
        LeafCount = leafCount;
        _leaf = connection.CreateCommand();
        _leaf.CommandText = "SELECT hash FROM records WHERE seq = $seq;";
        _leaf.Parameters.Add("$seq", SqliteType.Integer);
        _node = connection.CreateCommand();
        _node.CommandText = "SELECT hash FROM merkle_nodes WHERE level = $level AND idx = $idx;";
        _node.Parameters.Add("$level", SqliteType.Integer);
        _node.Parameters.Add("$idx", SqliteType.Integer);
        if (writable)
        {
            _insert = connection.CreateCommand();
            _insert.CommandText = "INSERT INTO merkle_nodes (level, idx, hash) VALUES ($level, $idx, $hash);";
            _insert.Parameters.Add("$level", SqliteType.Integer);
            _insert.Parameters.Add("$idx", SqliteType.Integer);
            _insert.Parameters.Add("$hash", SqliteType.Blob);
        }
    }

    /// <summary>How many leaves may be asked for: records 1..LeafCount.</summary>
    public long LeafCount { get; set; }

    public static SqliteMerkleNodes ForReading(SqliteConnection connection, long leafCount) => new(connection, leafCount, writable: false);

    /// <summary>For the writer: reads and inserts on its connection, in whatever transaction is set.</summary>
    public static SqliteMerkleNodes ForWriting(SqliteConnection connection, long leafCount) => new(connection, leafCount, writable: true);

    public SqliteTransaction? Transaction
    {
        set
        {
            _leaf.Transaction = value;
            _node.Transaction = value;
            _insert!.Transaction = value;
        }
    }

    public ReadOnlySpan<byte> GetNode(int level, long index)
    {
        if (level == 0)
        {
            _leaf.Parameters[0].Value = index + 1;
            if (_leaf.ExecuteScalar() is byte[] recordHash)
            {
                MerkleHash.HashLeaf(recordHash, _buffer);
                return _buffer;
            }

            // An archived and pruned record left its leaf hash behind (LogArchiver.Prune).
            _node.Parameters[0].Value = 0;
            _node.Parameters[1].Value = index;
            return _node.ExecuteScalar() as byte[] is { Length: MerkleHash.Size } kept
                ? kept
                : throw new MessageLogIntegrityException(MessageLogProblems.MissingRecord, index + 1, $"record {index + 1}, a leaf of the Merkle tree, is missing.");
        }

        _node.Parameters[0].Value = level;
        _node.Parameters[1].Value = index;
        var hash = _node.ExecuteScalar() as byte[];
        return hash is { Length: MerkleHash.Size }
            ? hash
            : throw new MessageLogIntegrityException(MissingNode, (index << level) + 1, $"Merkle node ({level}, {index}) is missing or malformed.");
    }

    public void AddNode(int level, long index, ReadOnlySpan<byte> hash)
    {
        if (level == 0)
        {
            return;
        }

        _insert!.Parameters[0].Value = level;
        _insert.Parameters[1].Value = index;
        _insert.Parameters[2].Value = hash.ToArray();
        _insert.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _leaf.Dispose();
        _node.Dispose();
        _insert?.Dispose();
    }

    /// <summary>
    /// The writer's tree at <paramref name="size"/> leaves. A log that has records without their
    /// nodes (one written before schema 2, or whose node rows were deleted) gets them rebuilt
    /// from the record hashes first, in one transaction.
    /// </summary>
    public static MerkleTreeBuilder RestoreOrRebuild(SqliteConnection connection, long size, Action<long> rebuilt)
    {
        // Nodes over records past the tail (records deleted from the end of the file) would collide
        // with the ones the next records complete. The records are gone either way; a signed tree
        // head over them, if one was made, is what shows the cut (SqliteMessageLog.Open refuses).
        using (var stale = connection.CreateCommand())
        {
            stale.CommandText = "DELETE FROM merkle_nodes WHERE level = $level AND idx >= $first;";
            var level = stale.Parameters.Add("$level", SqliteType.Integer);
            var first = stale.Parameters.Add("$first", SqliteType.Integer);
            // Level 0 rows are leaves of pruned records, always below the tail.
            for (var l = 1; l < 63; l++)
            {
                level.Value = l;
                first.Value = size >> l;
                stale.ExecuteNonQuery();
            }
        }

        using (var nodes = ForReading(connection, size))
        {
            try
            {
                return MerkleTreeBuilder.Restore(nodes, size);
            }
            catch (MessageLogIntegrityException e) when (e.Problem == MissingNode)
            {
                // Rebuilt below.
            }
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        using var sink = ForWriting(connection, size);
        sink.Transaction = transaction;
        using (var clear = connection.CreateCommand())
        {
            clear.Transaction = transaction;
            clear.CommandText = "DELETE FROM merkle_nodes;";
            clear.ExecuteNonQuery();
        }

        var builder = new MerkleTreeBuilder();
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT hash FROM records WHERE seq <= $size ORDER BY seq;";
            read.Parameters.AddWithValue("$size", size);
            using var reader = read.ExecuteReader();
            Span<byte> leaf = stackalloc byte[MerkleHash.Size];
            while (reader.Read())
            {
                MerkleHash.HashLeaf(reader.GetFieldValue<byte[]>(0), leaf);
                builder.Append(leaf, sink);
            }
        }

        if (builder.Size != size)
        {
            throw new MessageLogIntegrityException(MessageLogProblems.MissingRecord, builder.Size + 1,
                $"The log has {builder.Size} records below sequence {size}: records are missing, the Merkle tree cannot be rebuilt.");
        }

        transaction.Commit();
        rebuilt(size);
        return builder;
    }
}
