// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using ExchangeBus.Core.Merkle;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ExchangeBus.Node.MessageLog;

/// <summary>What a verifier checks of one record on the reading worker, before the ordered walk sees it (a code it picks, 0 for nothing to say).</summary>
internal delegate int RecordCheck(ScannedRecord record);

/// <summary>Sees each record that passed the chain checks, in order; false stops the walk.</summary>
internal delegate bool RecordVisitor(ScannedRecord record);

/// <summary>
/// One record as the chain walk hands it over: views into its chunk's pooled buffer, valid only
/// during the call. Text is the stored UTF-8, exactly the bytes the record hash covers.
/// </summary>
internal readonly ref struct ScannedRecord
{
    private readonly RecordChunk _chunk;
    private readonly int _index;
    private readonly ref readonly RecordChunk.Row _row;

    public ScannedRecord(RecordChunk chunk, int index)
    {
        _chunk = chunk;
        _index = index;
        _row = ref chunk.Rows[index];
    }

    public long Sequence => _row.Sequence;

    public DateTimeOffset At => DateTimeOffset.FromUnixTimeMilliseconds(_row.AtMs);

    public MessageDirection Direction => (MessageDirection)_row.Direction;

    public ReadOnlySpan<byte> MessageId => _chunk.Span(_row.MessageId);

    public ReadOnlySpan<byte> Client => _chunk.Span(_row.Client);

    public ReadOnlySpan<byte> Service => _chunk.Span(_row.Service);

    public ReadOnlySpan<byte> Status => _chunk.Span(_row.Status);

    public ReadOnlySpan<byte> Header => _chunk.Span(_row.Header);

    public ReadOnlySpan<byte> BodySha256 => _chunk.Span(_row.BodySha256);

    public ReadOnlySpan<byte> Signature => _chunk.Span(_row.Signature);

    /// <summary>Empty when the record names no signer certificate (the column is NULL).</summary>
    public ReadOnlySpan<byte> SignerCertificateSha256 => _chunk.Span(_row.SignerCertificateSha256);

    public bool NamesSignerCertificate => _row.SignerCertificateSha256.Length >= 0;

    public ReadOnlySpan<byte> Hash => _chunk.Span(_row.Hash);

    /// <summary>The record's Merkle leaf hash, <c>SHA-256(0x00 ‖ hash)</c>.</summary>
    public ReadOnlySpan<byte> Leaf => _chunk.Leaf(_index);

    /// <summary>What the walk's <see cref="RecordCheck"/> said of this record on the reading worker.</summary>
    public int Checked => _row.Checked;

    /// <summary>Whether the header may be a stream link (its <c>streamed</c> field is set); false also for one that does not parse.</summary>
    public bool MaybeStreamed => _row.MaybeStreamed;

    public bool StatusIsOk => Status.SequenceEqual("OK"u8);

    public string MessageIdText() => Encoding.UTF8.GetString(MessageId);
}

/// <summary>
/// A run of records read on one connection by one worker (docs/design/message-log.md, "Verifying
/// a log"): each row's columns copied once into one pooled buffer, and everything about a row that
/// depends only on the row checked there — its body against <c>body_sha256</c>, its content and
/// <c>prev_hash</c> against its hash, its leaf hash, whether its header may be a stream link, and
/// the verifier's own <see cref="RecordCheck"/>. Only the link to the row before, the order of
/// leaves and the streams are left to the ordered walk.
/// </summary>
internal sealed class RecordChunk : IDisposable
{
    // exchange.v1 MessageHeader.streamed: field 20, varint (StreamRecordChecks reads the rest).
    private const uint StreamedTag = (20 << 3) | 0;

    private byte[] _data;
    private int _used;

    private RecordChunk(int rows)
    {
        Rows = ArrayPool<Row>.Shared.Rent(rows);
        _data = ArrayPool<byte>.Shared.Rent(rows * 1024);
        Leaves = ArrayPool<byte>.Shared.Rent(rows * MerkleHash.Size);
    }

    public Row[] Rows { get; }

    public int Count { get; private set; }

    private byte[] Leaves { get; }

    /// <summary>
    /// Reads records <paramref name="from"/>..<paramref name="to"/> (those present) on
    /// <paramref name="connection"/> with SQLite's own column pointers, so a value is copied once
    /// and a body not at all.
    /// </summary>
    public static RecordChunk Read(SqliteConnection connection, long from, long to, RecordCheck? check, CancellationToken cancellation)
    {
        var chunk = new RecordChunk((int)(to - from + 1));
        try
        {
            chunk.Fill(connection, from, to, check, cancellation);
            return chunk;
        }
        catch
        {
            chunk.Dispose();
            throw;
        }
    }

    public ReadOnlySpan<byte> Span(Segment segment) => segment.Length <= 0 ? default : _data.AsSpan(segment.Offset, segment.Length);

    public ReadOnlySpan<byte> Leaf(int row) => Leaves.AsSpan(row * MerkleHash.Size, MerkleHash.Size);

    public void Dispose()
    {
        ArrayPool<Row>.Shared.Return(Rows, clearArray: true);
        ArrayPool<byte>.Shared.Return(_data);
        ArrayPool<byte>.Shared.Return(Leaves);
    }

    private void Fill(SqliteConnection connection, long from, long to, RecordCheck? check, CancellationToken cancellation)
    {
        var db = connection.Handle!;
        var status = raw.sqlite3_prepare_v2(db, $"SELECT {MessageLogDatabase.Columns} FROM records WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq;", out var statement);
        SqliteException.ThrowExceptionForRC(status, db);
        using (statement)
        {
            raw.sqlite3_bind_int64(statement, 1, from);
            raw.sqlite3_bind_int64(statement, 2, to);
            byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                while ((status = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var index = Count++;
                    ref var row = ref Rows[index];
                    ReadRow(statement, ref row, ref scratch);
                    if (row.Problem is null && !row.Unreadable)
                    {
                        MerkleHash.HashLeaf(Span(row.Hash), Leaves.AsSpan(index * MerkleHash.Size, MerkleHash.Size));
                        row.MaybeStreamed = MaybeStreamed(row.Header);
                        row.Checked = check?.Invoke(new ScannedRecord(this, index)) ?? 0;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            if (status != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(status, db);
            }
        }
    }

    private void ReadRow(sqlite3_stmt statement, ref Row row, ref byte[] scratch)
    {
        row = default;
        row.Sequence = raw.sqlite3_column_int64(statement, 0);

        // A value of the wrong type or a NULL where there must be one was not written by this log:
        // altered content, as the record hash would say (the hash never sees it).
        if (!IsInteger(statement, 1) || !IsInteger(statement, 3))
        {
            row.Unreadable = true;
            return;
        }

        row.AtMs = raw.sqlite3_column_int64(statement, 1);
        row.Direction = raw.sqlite3_column_int64(statement, 3);
        if (row.Direction is < int.MinValue or > int.MaxValue
            || !Text(statement, 2, ref row.MessageId, required: true)
            || !Text(statement, 4, ref row.Client, required: true)
            || !Text(statement, 5, ref row.Service, required: true)
            || !Text(statement, 6, ref row.UserId, required: true)
            || !Text(statement, 7, ref row.SubjectId, required: false)
            || !Text(statement, 8, ref row.Issue, required: true)
            || !Text(statement, 9, ref row.Status, required: true)
            || !Blob(statement, 10, ref row.BodySha256, required: true)
            || !Blob(statement, 11, ref row.Signature, required: true)
            || !Blob(statement, 12, ref row.SignerCertificateSha256, required: false)
            || !Text(statement, 13, ref row.CorrelationId, required: true)
            || !Blob(statement, 14, ref row.PreviousHash, required: true)
            || !Blob(statement, 15, ref row.Hash, required: true)
            || !Blob(statement, 16, ref row.Header, required: true))
        {
            row.Unreadable = true;
            return;
        }

        var bodyType = raw.sqlite3_column_type(statement, 17);
        if (bodyType is not (raw.SQLITE_NULL or raw.SQLITE_BLOB))
        {
            row.Unreadable = true;
            return;
        }

        row.HasBody = bodyType == raw.SQLITE_BLOB;
        if (row.HasBody)
        {
            Span<byte> bodyHash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(raw.sqlite3_column_blob(statement, 17), bodyHash);
            if (!CryptographicOperations.FixedTimeEquals(bodyHash, Span(row.BodySha256)))
            {
                row.Problem = MessageLogProblems.BodyHashMismatch;
            }
        }

        Span<byte> computed = stackalloc byte[MessageLogHash.Size];
        ComputeHash(ref row, ref scratch, computed);
        if (row.Problem is null && !CryptographicOperations.FixedTimeEquals(computed, Span(row.Hash)))
        {
            row.Problem = MessageLogProblems.HashMismatch;
        }
    }

    /// <summary>MessageLogHash's encoding of the row as stored, into one buffer and one SHA-256 (not a call per field).</summary>
    private void ComputeHash(ref Row row, ref byte[] scratch, Span<byte> destination)
    {
        var fields = new MessageLogHash.Fields
        {
            PreviousHash = Span(row.PreviousHash),
            Sequence = row.Sequence,
            AtMs = row.AtMs,
            MessageId = Field(row.MessageId),
            Direction = row.Direction,
            Client = Field(row.Client),
            Service = Field(row.Service),
            UserId = Field(row.UserId),
            SubjectId = Field(row.SubjectId),
            Issue = Field(row.Issue),
            Status = Field(row.Status),
            Header = Field(row.Header),
            HasBody = row.HasBody,
            BodySha256 = Field(row.BodySha256),
            Signature = Field(row.Signature),
            SignerCertificateSha256 = Field(row.SignerCertificateSha256),
            CorrelationId = Field(row.CorrelationId),
        };
        var length = MessageLogHash.EncodedLength(fields);
        if (scratch.Length < length)
        {
            ArrayPool<byte>.Shared.Return(scratch);
            scratch = ArrayPool<byte>.Shared.Rent(length);
        }

        SHA256.HashData(MessageLogHash.Encode(fields, scratch), destination);
    }

    /// <summary>A stored value as the hash sees it: a NULL (length -1) is absent, not empty.</summary>
    private MessageLogHash.Field Field(Segment value) => value.Length < 0 ? MessageLogHash.Field.Absent : new MessageLogHash.Field(Span(value));

    private static bool IsInteger(sqlite3_stmt statement, int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_INTEGER;

    /// <summary>A TEXT value's UTF-8 (the message log's encoding, checked when the walk starts), refused when it is not valid UTF-8.</summary>
    private bool Text(sqlite3_stmt statement, int column, ref Segment segment, bool required) =>
        Value(statement, column, raw.SQLITE_TEXT, ref segment, required) && Utf8.IsValid(Span(segment));

    private bool Blob(sqlite3_stmt statement, int column, ref Segment segment, bool required) =>
        Value(statement, column, raw.SQLITE_BLOB, ref segment, required);

    /// <summary>The value copied into the chunk, if it has the column's type (or is a NULL the column allows).</summary>
    private bool Value(sqlite3_stmt statement, int column, int type, ref Segment segment, bool required)
    {
        var actual = raw.sqlite3_column_type(statement, column);
        if (actual == raw.SQLITE_NULL && !required)
        {
            segment = Segment.None;
            return true;
        }

        if (actual != type)
        {
            return false;
        }

        segment = Copy(raw.sqlite3_column_blob(statement, column));
        return true;
    }

    private Segment Copy(ReadOnlySpan<byte> value)
    {
        if (_used + value.Length > _data.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_data.Length * 2, _used + value.Length));
            _data.AsSpan(0, _used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_data);
            _data = larger;
        }

        value.CopyTo(_data.AsSpan(_used));
        var segment = new Segment(_used, value.Length);
        _used += value.Length;
        return segment;
    }

    /// <summary>
    /// Whether the header, read as a MessageHeader, says <c>streamed</c> (its last value, as a
    /// parser keeps it). Only those are parsed in full by the ordered walk: a header that is not
    /// a stream link, or does not parse, is no link (StreamRecordChecks).
    /// </summary>
    private bool MaybeStreamed(Segment header)
    {
        if (header.Length <= 0)
        {
            return false;
        }

        try
        {
            var input = new CodedInputStream(_data, header.Offset, header.Length);
            var streamed = false;
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (tag == StreamedTag)
                {
                    streamed = input.ReadBool();
                }
                else
                {
                    input.SkipLastField();
                }
            }

            return streamed;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>Where a value is in the chunk's buffer; a length of -1 for NULL.</summary>
    internal readonly record struct Segment(int Offset, int Length)
    {
        public static Segment None { get; } = new(0, -1);
    }

    internal struct Row
    {
        public long Sequence;
        public long AtMs;
        public long Direction;
        public bool HasBody;
        public bool MaybeStreamed;

        /// <summary>A value of the wrong type, a NULL where there must be a value, or text that is not UTF-8: the row reads as altered content.</summary>
        public bool Unreadable;
        public int Checked;

        /// <summary>What is wrong with the row on its own (content, body), found on the worker; the ordered walk reports it after the link.</summary>
        public string? Problem;

        public Segment MessageId;
        public Segment Client;
        public Segment Service;
        public Segment UserId;
        public Segment SubjectId;
        public Segment Issue;
        public Segment Status;
        public Segment BodySha256;
        public Segment Signature;
        public Segment SignerCertificateSha256;
        public Segment CorrelationId;
        public Segment PreviousHash;
        public Segment Hash;
        public Segment Header;
    }
}
