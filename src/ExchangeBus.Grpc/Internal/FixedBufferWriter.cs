// SPDX-License-Identifier: Apache-2.0
using System.Buffers;

namespace ExchangeBus.Grpc.Internal;

/// <summary>
/// Writes into one array that was sized beforehand (a pooled one): a message whose size was
/// calculated first never needs more, and one that asks for more is a fault, not a reason to grow.
/// </summary>
internal sealed class FixedBufferWriter(byte[] buffer) : IBufferWriter<byte>
{
    public int Written { get; private set; }

    public void Advance(int count)
    {
        if (count < 0 || Written + count > buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(Written, Room(sizeHint));

    public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(Written, Room(sizeHint));

    private int Room(int sizeHint)
    {
        var room = buffer.Length - Written;
        if (room == 0 || room < sizeHint)
        {
            throw new InvalidOperationException("The message is larger than the size calculated for it.");
        }

        return room;
    }
}
