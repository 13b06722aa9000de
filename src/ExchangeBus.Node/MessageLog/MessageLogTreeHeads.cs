// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// A tree head as the node keeps it: the signed bytes (the serialized <c>audit.v1.TreeHead</c>),
/// the member's signature, the signer certificate, the TSA's RFC 3161 token, and when the
/// registry acknowledged it (null until then).
/// </summary>
public sealed record StoredTreeHead(
    long TreeSize, byte[] RootHash, DateTimeOffset CreatedAt, byte[] TreeHead, byte[] Signature, byte[] SignerCertificate, byte[] TimeStampToken,
    DateTimeOffset? SubmittedAt);

/// <summary>Reads of the Merkle tree and the tree heads.</summary>
public sealed partial class MessageLogReader
{
    private const string TreeHeadColumns = "tree_size, root_hash, created_at, tree_head, signature, signer_certificate, token, submitted_at";

    /// <summary>The Merkle root of the first <paramref name="treeSize"/> records.</summary>
    public byte[] TreeRoot(long treeSize) => WithTree(nodes => MerkleProofs.Root(nodes, treeSize));

    /// <summary>The inclusion proof of record <paramref name="sequence"/> in the tree of the first <paramref name="treeSize"/> records.</summary>
    public byte[][] InclusionProof(long sequence, long treeSize) => WithTree(nodes => MerkleProofs.InclusionProof(nodes, sequence - 1, treeSize));

    public byte[][] ConsistencyProof(long oldSize, long newSize) => WithTree(nodes => MerkleProofs.ConsistencyProof(nodes, oldSize, newSize));

    /// <summary>
    /// A builder holding the tree of the first <paramref name="treeSize"/> records, read from the
    /// stored nodes (taken as given): where a verification of a range that starts after record 1
    /// carries the tree on from.
    /// </summary>
    internal MerkleTreeBuilder TreeBuilder(long treeSize) => WithTree(nodes => MerkleTreeBuilder.Restore(nodes, treeSize));

    /// <summary>Heads with <paramref name="fromSize"/> ≤ size ≤ <paramref name="toSize"/>, smallest first.</summary>
    public IReadOnlyList<StoredTreeHead> TreeHeads(long fromSize, long toSize, int limit)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {TreeHeadColumns} FROM tree_heads WHERE tree_size >= $from AND tree_size <= $to ORDER BY tree_size LIMIT $limit;";
        command.Parameters.AddWithValue("$from", fromSize);
        command.Parameters.AddWithValue("$to", toSize);
        command.Parameters.AddWithValue("$limit", limit);
        return ReadHeads(command);
    }

    /// <summary>The largest head, or null before the first.</summary>
    public StoredTreeHead? LatestTreeHead() => Head("SELECT {0} FROM tree_heads ORDER BY tree_size DESC LIMIT 1;", null);

    /// <summary>The largest head the registry acknowledged, or null.</summary>
    public StoredTreeHead? LatestSubmittedTreeHead() => Head("SELECT {0} FROM tree_heads WHERE submitted_at IS NOT NULL ORDER BY tree_size DESC LIMIT 1;", null);

    /// <summary>The first (smallest) head that covers record <paramref name="sequence"/>, or null while none does.</summary>
    public StoredTreeHead? FirstTreeHeadCovering(long sequence) => Head("SELECT {0} FROM tree_heads WHERE tree_size >= $p ORDER BY tree_size LIMIT 1;", sequence);

    /// <summary>Heads not yet acknowledged by the registry, smallest first.</summary>
    public IReadOnlyList<StoredTreeHead> UnsubmittedTreeHeads(int limit)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {TreeHeadColumns} FROM tree_heads WHERE submitted_at IS NULL ORDER BY tree_size LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit);
        return ReadHeads(command);
    }

    /// <summary>When record <paramref name="sequence"/> was written, or null if there is none.</summary>
    public DateTimeOffset? RecordTime(long sequence)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT at FROM records WHERE seq = $seq;";
        command.Parameters.AddWithValue("$seq", sequence);
        return command.ExecuteScalar() is long at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
    }

    private StoredTreeHead? Head(string sql, long? parameter)
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, TreeHeadColumns);
        if (parameter is { } value)
        {
            command.Parameters.AddWithValue("$p", value);
        }

        return ReadHeads(command) is [var head, ..] ? head : null;
    }

    private static List<StoredTreeHead> ReadHeads(SqliteCommand command)
    {
        var heads = new List<StoredTreeHead>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            heads.Add(new StoredTreeHead(
                reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.GetFieldValue<byte[]>(3), reader.GetFieldValue<byte[]>(4), reader.GetFieldValue<byte[]>(5), reader.GetFieldValue<byte[]>(6),
                reader.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7))));
        }

        return heads;
    }

    /// <summary>Runs a tree read in one read transaction, so the tree it sees is one committed state.</summary>
    private T WithTree<T>(Func<IMerkleNodeSource, T> read)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: true);
        var last = ReadLastSequence(connection);
        using var nodes = SqliteMerkleNodes.ForReading(connection, last);
        return read(nodes);
    }
}

/// <summary>Writes of tree heads: rare (one per time-stamping interval), on their own short connection.</summary>
public sealed partial class SqliteMessageLog
{
    /// <summary>Stores a signed, time-stamped head; the same size twice is refused by the primary key.</summary>
    public void AddTreeHead(StoredTreeHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        using var connection = MessageLogDatabase.OpenWriter(Path, _options);
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO tree_heads (tree_size, root_hash, created_at, tree_head, signature, signer_certificate, token, submitted_at) VALUES ($a, $b, $c, $d, $e, $f, $g, NULL);";
        command.Parameters.AddWithValue("$a", head.TreeSize);
        command.Parameters.AddWithValue("$b", head.RootHash);
        command.Parameters.AddWithValue("$c", head.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$d", head.TreeHead);
        command.Parameters.AddWithValue("$e", head.Signature);
        command.Parameters.AddWithValue("$f", head.SignerCertificate);
        command.Parameters.AddWithValue("$g", head.TimeStampToken);
        command.ExecuteNonQuery();
    }

    /// <summary>Records that the registry holds the head of <paramref name="treeSize"/>.</summary>
    public void MarkTreeHeadSubmitted(long treeSize, DateTimeOffset at)
    {
        using var connection = MessageLogDatabase.OpenWriter(Path, _options);
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE tree_heads SET submitted_at = $at WHERE tree_size = $size AND submitted_at IS NULL;";
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$size", treeSize);
        command.ExecuteNonQuery();
    }

    /// <summary>The reader this log answers its lookups with (auditors' queries, proofs, heads).</summary>
    public MessageLogReader Reader => _reader;
}
