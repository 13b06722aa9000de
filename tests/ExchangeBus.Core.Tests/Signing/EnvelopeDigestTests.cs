// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Core.Tests.Signing;

public sealed class EnvelopeDigestTests
{
    // FIPS 180-2 test values: SHA-256("abc") and SHA-256("").
    private const string Sha256OfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string Sha256OfEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Test]
    public void Compute_KnownInputs_IsHeaderHashThenBodyHash()
    {
        var digest = EnvelopeDigest.Compute("abc"u8, ReadOnlySpan<byte>.Empty);

        Assert.That(Convert.ToHexStringLower(digest), Is.EqualTo(Sha256OfAbc + Sha256OfEmpty));
    }

    [Test]
    public void Compute_SwappedHeaderAndBody_Differs()
    {
        // The order is the point: a header must never be verifiable as a body.
        Assert.That(
            EnvelopeDigest.Compute("a"u8, "b"u8),
            Is.Not.EqualTo(EnvelopeDigest.Compute("b"u8, "a"u8)));
    }

    [Test]
    public void Compute_BoundaryMovedBetweenHeaderAndBody_Differs()
    {
        Assert.That(
            EnvelopeDigest.Compute("ab"u8, "c"u8),
            Is.Not.EqualTo(EnvelopeDigest.Compute("a"u8, "bc"u8)));
    }

    [Test]
    public void ComputeFromStream_LargeNonSeekableBody_EqualsInMemoryResult()
    {
        var body = new byte[(3 * 1024 * 1024) + 17];
        new Random(7).NextBytes(body);
        var header = Encoding.UTF8.GetBytes("header");
        using var stream = new TrickleStream(body);

        var fromStream = EnvelopeDigest.Compute(header, stream);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fromStream, Is.EqualTo(EnvelopeDigest.Compute(header, body)));
            Assert.That(stream.LargestRead, Is.LessThanOrEqualTo(64 * 1024), "the body is read in chunks");
        }
    }

    [Test]
    public async Task ComputeAsync_LargeNonSeekableBody_EqualsInMemoryResult()
    {
        var body = new byte[(1024 * 1024) + 3];
        new Random(11).NextBytes(body);
        var header = Encoding.UTF8.GetBytes("header");
        using var stream = new TrickleStream(body);

        var fromStream = await EnvelopeDigest.ComputeAsync(header, stream);

        Assert.That(fromStream, Is.EqualTo(EnvelopeDigest.Compute(header, body)));
    }

    [Test]
    public void ComputeAsync_Cancelled_Throws()
    {
        using var stream = new MemoryStream(new byte[1024]);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.That(
            async () => await EnvelopeDigest.ComputeAsync(ReadOnlyMemory<byte>.Empty, stream, cancellation.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void ComputeFromStream_PositionedStream_HashesFromCurrentPosition()
    {
        using var stream = new MemoryStream("skip-body"u8.ToArray());
        stream.Position = 5;

        Assert.That(EnvelopeDigest.Compute("h"u8, stream), Is.EqualTo(EnvelopeDigest.Compute("h"u8, "body"u8)));
    }

    [Test]
    public void FromHashes_SeparatelyComputedHashes_EqualsCompute()
    {
        var header = "header"u8.ToArray();
        var body = "body"u8.ToArray();

        Assert.That(
            EnvelopeDigest.FromHashes(SHA256.HashData(header), SHA256.HashData(body)),
            Is.EqualTo(EnvelopeDigest.Compute(header, body)));
    }

    [TestCase(0)]
    [TestCase(31)]
    [TestCase(33)]
    [TestCase(64)]
    public void FromHashes_WrongHashLength_ThrowsArgumentException(int length)
    {
        Assert.That(
            () => EnvelopeDigest.FromHashes(new byte[length], new byte[32]),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("headerSha256"));
    }

    [Test]
    public void Compute_Always_Returns64Bytes()
    {
        Assert.That(EnvelopeDigest.Compute([], []), Has.Length.EqualTo(EnvelopeDigest.Size).And.Length.EqualTo(64));
    }

    /// <summary>
    /// A forward-only stream that hands out at most a few kilobytes per read and records the
    /// largest read asked of it, like a network stream.
    /// </summary>
    private sealed class TrickleStream(byte[] data) : Stream
    {
        private int _position;

        public int LargestRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            LargestRead = Math.Max(LargestRead, buffer.Length);
            var n = Math.Min(Math.Min(buffer.Length, 5000), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
