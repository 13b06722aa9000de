// SPDX-License-Identifier: Apache-2.0
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ExchangeBus.Node.Descriptions;

/// <summary>
/// Protobuf descriptor sets (<c>google.protobuf.FileDescriptorSet</c>), the form a gRPC service's
/// description takes on the bus: what <c>protoc --include_imports --descriptor_set_out</c> writes
/// and what gRPC server reflection serves, file by file.
/// </summary>
public static class DescriptorSets
{
    /// <summary>
    /// The files of a set, built (every import resolved, every type named). Throws
    /// <see cref="FormatException"/> when the bytes are not a set or a file does not build: files
    /// must come after the files they import, as protoc writes them.
    /// </summary>
    public static IReadOnlyList<FileDescriptor> Build(ByteString content)
    {
        ArgumentNullException.ThrowIfNull(content);
        FileDescriptorSet set;
        try
        {
            set = FileDescriptorSet.Parser.ParseFrom(content);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new FormatException("not a protobuf FileDescriptorSet", ex);
        }

        if (set.File.Count == 0)
        {
            throw new FormatException("a FileDescriptorSet with no files");
        }

        try
        {
            return FileDescriptor.BuildFromByteStrings(set.File.Select(f => f.ToByteString()));
        }
        catch (Exception ex) when (ex is DescriptorValidationException or ArgumentException or InvalidProtocolBufferException)
        {
            throw new FormatException($"its files do not build ({ex.Message}); write it with protoc --include_imports", ex);
        }
    }

    /// <summary>
    /// The set of <paramref name="file"/> and everything it imports, imports first: the
    /// description of a service compiled into this program (the samples, tests), the same bytes
    /// protoc would write for its .proto, since a generated descriptor embeds protoc's own output.
    /// </summary>
    public static FileDescriptorSet Of(FileDescriptor file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var set = new FileDescriptorSet();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Add(file);
        return set;

        void Add(FileDescriptor f)
        {
            if (!seen.Add(f.Name))
            {
                return;
            }

            foreach (var dependency in f.Dependencies)
            {
                Add(dependency);
            }

            set.File.Add(FileDescriptorProto.Parser.ParseFrom(f.SerializedData));
        }
    }
}
