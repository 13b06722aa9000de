// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.IO;

namespace ExchangeBus.Core.Tests.IO;

/// <summary>The capped body read of the node's REST endpoint and HTTP backends and the registry's trust services.</summary>
public sealed class BoundedBodyTests
{
    [TestCase(0, 10)]
    [TestCase(10, 10)]
    [TestCase(100_000, 100_000)]
    public async Task BodyUpToTheCap_ReadWhole(int length, int cap)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        var read = await BoundedBody.ReadAsync(new TrickleStream(data), declaredLength: null, cap, CancellationToken.None);

        Assert.That(read, Is.EqualTo(data));
    }

    [Test]
    public async Task OneBytePastTheCap_Null_AndNoMoreIsRead()
    {
        var stream = new TrickleStream(new byte[1_000_000]);

        var read = await BoundedBody.ReadAsync(stream, declaredLength: null, 100_000, CancellationToken.None);

        Assert.That(read, Is.Null);
        Assert.That(stream.Position, Is.LessThanOrEqualTo(100_001));
    }

    [Test]
    public async Task DeclaredLengthPastTheCap_Null_BeforeAnyRead()
    {
        var stream = new TrickleStream(new byte[20]);

        var read = await BoundedBody.ReadAsync(stream, declaredLength: 11, 10, CancellationToken.None);

        Assert.That(read, Is.Null);
        Assert.That(stream.Position, Is.Zero);
    }

    /// <summary>Gives at most 1000 bytes a read, as a network stream does, so the buffer must grow.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1000)], cancellationToken);
    }
}
