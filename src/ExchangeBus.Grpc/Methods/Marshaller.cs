// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using Google.Protobuf;

namespace ExchangeBus.Grpc;

/// <summary>Turns a message into bytes and back. Size first, so the prefix is written without copying.</summary>
public sealed class Marshaller<T>(
    Func<T, int> calculateSize,
    Action<T, IBufferWriter<byte>> serialize,
    Func<ReadOnlySequence<byte>, T> deserialize)
{
    public int CalculateSize(T message) => calculateSize(message);

    public void Serialize(T message, IBufferWriter<byte> destination) => serialize(message, destination);

    public T Deserialize(in ReadOnlySequence<byte> payload) => deserialize(payload);
}

public static class Marshallers
{
    /// <summary>The marshaller for a generated protobuf message type.</summary>
    public static Marshaller<T> ForProtobuf<T>()
        where T : class, IMessage<T>, new() => ProtobufMarshaller<T>.Instance;

    /// <summary>Raw bytes, passed through as they are (for forwarding without re-serializing).</summary>
    public static Marshaller<ReadOnlyMemory<byte>> Bytes { get; } = new(
        static m => m.Length,
        static (m, w) => w.Write(m.Span),
        static p => p.ToArray());

    private static class ProtobufMarshaller<T>
        where T : class, IMessage<T>, new()
    {
        private static readonly MessageParser<T> Parser = new(() => new T());

        public static readonly Marshaller<T> Instance = new(
            static m => m.CalculateSize(),
            static (m, w) => m.WriteTo(w),
            static p => Parser.ParseFrom(p));
    }
}
