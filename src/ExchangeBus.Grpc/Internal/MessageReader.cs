// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;

namespace ExchangeBus.Grpc.Internal;

/// <summary>Reads length-prefixed messages from a pipe, for the server and the client alike.</summary>
internal static class MessageReader
{
    /// <summary>
    /// Reads the next message, or returns false at a clean end of stream. A stream that ends
    /// inside a message, a length over the limit, or bytes that do not decode end the call.
    /// </summary>
    public static async ValueTask<(bool HasMessage, T Message)> ReadAsync<T>(
        PipeReader reader, Marshaller<T> marshaller, int maxMessageSize, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (GrpcProtocol.TryReadHeader(buffer, maxMessageSize, out var length)
                && buffer.Length >= GrpcProtocol.HeaderSize + length)
            {
                var payload = buffer.Slice(GrpcProtocol.HeaderSize, length);
                T message;
                try
                {
                    message = marshaller.Deserialize(payload);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize message."), null, ex);
                }

                reader.AdvanceTo(payload.End);
                return (true, message);
            }

            if (result.IsCompleted)
            {
                var left = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (left == 0)
                {
                    return (false, default!);
                }

                throw new RpcException(StatusCode.Internal, "Incomplete message: the stream ended inside a message.");
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Writes one message with its prefix. The caller flushes.</summary>
    public static void Write<T>(IBufferWriter<byte> writer, Marshaller<T> marshaller, T message, int maxMessageSize)
    {
        var size = marshaller.CalculateSize(message);
        if (size > maxMessageSize)
        {
            throw new RpcException(
                StatusCode.ResourceExhausted,
                $"Sending message exceeds the maximum configured message size ({size} vs. {maxMessageSize}).");
        }

        GrpcProtocol.WriteHeader(writer.GetSpan(GrpcProtocol.HeaderSize), size);
        writer.Advance(GrpcProtocol.HeaderSize);
        marshaller.Serialize(message, writer);
    }
}
