// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Text;
using System.Text;
using Grpc.Core;

namespace ExchangeBus.Node.Files;

/// <summary>
/// <c>List</c>'s page token: where the last page ended (direction and sort key), bound to the
/// client and dossier it listed, so a token cannot continue another listing. Opaque to callers
/// and not secret: it only positions a cursor within files the caller may list anyway.
/// </summary>
internal static class ListPageToken
{
    private const byte Version = 1;

    public static string Write(string client, string? dossierId, bool received, ListPosition? after)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            writer.Write(client);
            writer.Write(dossierId ?? string.Empty);
            writer.Write(received);
            writer.Write(after is not null);
            if (after is not null)
            {
                writer.Write(after.DossierId);
                writer.Write(after.DossierVersion);
                writer.Write(after.At);
                writer.Write(after.Sender);
                writer.Write(after.FileId);
            }
        }

        return Base64Url.EncodeToString(buffer.ToArray());
    }

    /// <summary>The direction the next page starts in and the position it starts after; refused with <see cref="FileErrors.BadPageToken"/> if not a token for this listing.</summary>
    public static (bool Received, ListPosition? After) Read(string token, string client, string? dossierId)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(Base64Url.DecodeFromChars(token)), Encoding.UTF8);
            if (reader.ReadByte() == Version
                && string.Equals(reader.ReadString(), client, StringComparison.Ordinal)
                && string.Equals(reader.ReadString(), dossierId ?? string.Empty, StringComparison.Ordinal))
            {
                var received = reader.ReadBoolean();
                var after = reader.ReadBoolean()
                    ? new ListPosition(reader.ReadString(), reader.ReadUInt32(), reader.ReadInt64(), reader.ReadString(), reader.ReadString())
                    : null;
                if (reader.BaseStream.Position == reader.BaseStream.Length)
                {
                    return (received, after);
                }
            }
        }
        catch (Exception ex) when (ex is FormatException or EndOfStreamException or IOException or ArgumentException)
        {
            // Refused below, like a token for another listing.
        }

        throw new NodeException(StatusCode.InvalidArgument, FileErrors.BadPageToken, "The page token is not one this node gave for this client and dossier.");
    }
}
