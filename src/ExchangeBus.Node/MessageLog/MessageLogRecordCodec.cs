// SPDX-License-Identifier: Apache-2.0
using System.Text;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// A record as bytes, for keeping it somewhere else until the log has it: file sync writes the
/// records of a state change into <c>files.db</c> in the same transaction as the state, so a crash
/// between that commit and the log's cannot lose them (docs/design/file-sync.md, "Log outbox").
/// </summary>
/// <remarks>
/// Not the log's own format and not covered by any hash: a private, versioned layout that only
/// has to survive a restart of the same or a later version of the node. <see cref="MessageLogRecord.At"/>
/// is not kept: the log assigns it when it writes the record.
/// </remarks>
public static class MessageLogRecordCodec
{
    private const byte Version = 1;

    public static byte[] Encode(MessageLogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream(512 + record.Header.Length + (record.Body?.Length ?? 0) + (record.SignerCertificate?.Length ?? 0) + (record.OcspResponse?.Length ?? 0));
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write(record.MessageId);
            writer.Write((int)record.Direction);
            writer.Write(record.Client);
            writer.Write(record.Service);
            writer.Write(record.UserId);
            WriteText(writer, record.SubjectId);
            writer.Write(record.Issue);
            writer.Write(record.Status);
            writer.Write(record.CorrelationId);
            WriteBytes(writer, record.Header);
            WriteBytes(writer, record.Body);
            WriteBytes(writer, record.BodySha256);
            WriteBytes(writer, record.Signature);
            WriteBytes(writer, record.SignerCertificateSha256);
            WriteBytes(writer, record.SignerCertificate);
            WriteBytes(writer, record.OcspResponse);
        }

        return buffer.ToArray();
    }

    /// <exception cref="InvalidDataException">The bytes are not a record this version wrote.</exception>
    public static MessageLogRecord Decode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            var version = reader.ReadByte();
            if (version != Version)
            {
                throw new InvalidDataException($"Record layout version {version} is not known.");
            }

            var record = new MessageLogRecord
            {
                MessageId = reader.ReadString(),
                Direction = (MessageDirection)reader.ReadInt32(),
                Client = reader.ReadString(),
                Service = reader.ReadString(),
                UserId = reader.ReadString(),
                SubjectId = ReadText(reader),
                Issue = reader.ReadString(),
                Status = reader.ReadString(),
                CorrelationId = reader.ReadString(),
                Header = ReadBytes(reader) ?? [],
                Body = ReadBytes(reader),
                BodySha256 = ReadBytes(reader) ?? [],
                Signature = ReadBytes(reader) ?? [],
                SignerCertificateSha256 = ReadBytes(reader),
                SignerCertificate = ReadBytes(reader),
                OcspResponse = ReadBytes(reader),
            };
            if (reader.BaseStream.Position != bytes.Length)
            {
                throw new InvalidDataException("Bytes follow the record.");
            }

            return record;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The record is cut short.", ex);
        }
    }

    /// <summary>
    /// Whether the log already holds this record: the same message, direction, parties, outcome,
    /// correlation id and signed bytes (the log's own time and sequence aside).
    /// </summary>
    public static bool SameRecord(MessageLogRecord a, MessageLogRecord b) =>
        a.MessageId == b.MessageId && a.Direction == b.Direction && a.Client == b.Client && a.Service == b.Service
        && a.Status == b.Status && a.CorrelationId == b.CorrelationId
        && a.Header.AsSpan().SequenceEqual(b.Header) && a.BodySha256.AsSpan().SequenceEqual(b.BodySha256)
        && a.Signature.AsSpan().SequenceEqual(b.Signature);

    private static void WriteText(BinaryWriter writer, string? text)
    {
        writer.Write(text is not null);
        if (text is not null)
        {
            writer.Write(text);
        }
    }

    private static string? ReadText(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    private static void WriteBytes(BinaryWriter writer, byte[]? bytes)
    {
        // -1 for none: an empty array and a missing one mean different things (a body not kept).
        writer.Write(bytes?.Length ?? -1);
        if (bytes is not null)
        {
            writer.Write(bytes);
        }
    }

    private static byte[]? ReadBytes(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        if (length < -1 || length > reader.BaseStream.Length - reader.BaseStream.Position)
        {
            throw new InvalidDataException("A field's length is out of range.");
        }

        return length == -1 ? null : reader.ReadBytes(length);
    }
}
