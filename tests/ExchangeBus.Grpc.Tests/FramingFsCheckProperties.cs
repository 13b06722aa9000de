// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.IO.Pipelines;
using ExchangeBus.Grpc.Internal;
using ExchangeBus.Testing.V1;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;

namespace ExchangeBus.Grpc.Tests;

/// <summary>
/// FsCheck property over the frame reader both the server and the client use
/// (docs/reliability.md, "Random input"). Streams of frames with wrong flags, lying length
/// prefixes (up to 4 GiB), payloads that are not protobuf and a cut anywhere, fed in random
/// chunks through a pipe that holds at most the limit plus one prefix: the reader must give
/// exactly the messages and the status a reference reading of the bytes gives, never ask for more
/// buffered bytes than the limit (the writer would stall and the deadline fire), and never hang.
/// </summary>
public sealed class FramingFsCheckProperties
{
    private const int Limit = 1024;
    private const int MaxChunk = 64;

    private static readonly Gen<byte[]> Payload = Gen.OneOf(
        from text in Gen.Choose(0, Limit - 16).SelectMany(n => Gen.Elements('a', 'b', '\u00e9').ArrayOf(n))
        from repeat in Gen.Choose(0, 5)
        select new EchoRequest { Text = new string(text), Repeat = repeat }.ToByteArray(),
        Gen.Choose(0, Limit).SelectMany(n => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(n)));

    private static readonly Gen<byte[]> Frame =
        from payload in Payload
        from flag in Gen.Frequency((30, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Choose(2, 255)))
        from declared in Gen.Frequency(
            (30, Gen.Constant((uint)payload.Length)),
            (1, Gen.Constant(uint.MaxValue)),
            (1, Gen.Choose(Limit + 1, int.MaxValue).Select(n => (uint)n)),
            (1, Gen.Choose(0, Limit).Select(n => (uint)n)))
        select Framed((byte)flag, declared, payload);

    private static readonly Gen<(byte[] Stream, int[] Chunks)> Streams =
        from frames in Frame.ListOf().Select(f => f.Take(8).ToArray())
        let whole = frames.SelectMany(f => f).ToArray()
        from cut in Gen.Frequency((3, Gen.Constant(whole.Length)), (1, Gen.Choose(0, whole.Length)))
        from chunks in Gen.Choose(1, MaxChunk).ArrayOf(whole.Length + 1)
        select (whole[..cut], chunks);

    [Test]
    public void AnyByteStream_ReadsAsTheReferenceSays_WithinTheLimitAndWithoutHanging()
    {
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        Prop.ForAll(Streams.ToArbitrary(), t =>
        {
            var (messages, status) = ReadAsync(t.Stream, t.Chunks).GetAwaiter().GetResult();
            var (expectedMessages, expectedStatus) = Reference(t.Stream);

            Assert.That(status, Is.EqualTo(expectedStatus), $"{t.Stream.Length} bytes");
            Assert.That(messages, Is.EqualTo(expectedMessages), $"{t.Stream.Length} bytes");
            var key = status?.ToString() ?? "clean end";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));

        TestContext.Out.WriteLine("outcomes: " + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { "clean end", nameof(StatusCode.Internal), nameof(StatusCode.ResourceExhausted) }), "the generator reached every outcome");
    }

    /// <summary>
    /// Feeds <paramref name="stream"/> in chunks through a pipe that stalls its writer once the
    /// limit plus one prefix is unread; a reader that needs more would wait forever, so the
    /// deadline turns that into a failure (OperationCanceledException) instead of a hung test.
    /// </summary>
    private static async Task<(int Messages, StatusCode? Status)> ReadAsync(byte[] stream, int[] chunks)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var holdAtMost = Limit + GrpcProtocol.HeaderSize + 1;
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: holdAtMost, resumeWriterThreshold: holdAtMost, useSynchronizationContext: false));
        var writer = Task.Run(async () =>
        {
            var offset = 0;
            for (var i = 0; offset < stream.Length; i++)
            {
                var length = Math.Min(chunks[i], stream.Length - offset);
                var flushed = await pipe.Writer.WriteAsync(stream.AsMemory(offset, length), deadline.Token);
                offset += length;
                if (flushed.IsCompleted)
                {
                    break;
                }
            }

            await pipe.Writer.CompleteAsync();
        });

        var messages = 0;
        var largest = 0L;
        var marshaller = new Marshaller<EchoRequest>(
            m => m.CalculateSize(),
            (m, w) => m.WriteTo(w),
            p =>
            {
                largest = Math.Max(largest, p.Length);
                return EchoRequest.Parser.ParseFrom(p);
            });
        StatusCode? status = null;
        try
        {
            while ((await MessageReader.ReadAsync(pipe.Reader, marshaller, Limit, deadline.Token)).HasMessage)
            {
                messages++;
            }
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
        }

        await pipe.Reader.CompleteAsync();
        await writer;
        Assert.That(largest, Is.LessThanOrEqualTo(Limit), "no message over the limit reached the marshaller");
        return (messages, status);
    }

    /// <summary>The same bytes read the plain way, all at once: what the reader must report.</summary>
    private static (int Messages, StatusCode? Status) Reference(byte[] stream)
    {
        var messages = 0;
        var at = 0;
        while (at < stream.Length)
        {
            if (stream.Length - at < GrpcProtocol.HeaderSize)
            {
                return (messages, StatusCode.Internal);
            }

            if (stream[at] != 0)
            {
                return (messages, StatusCode.Internal);
            }

            var declared = BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(at + 1));
            if (declared > Limit)
            {
                return (messages, StatusCode.ResourceExhausted);
            }

            var start = at + GrpcProtocol.HeaderSize;
            if (stream.Length - start < declared)
            {
                return (messages, StatusCode.Internal);
            }

            try
            {
                EchoRequest.Parser.ParseFrom(stream, start, (int)declared);
            }
            catch (InvalidProtocolBufferException)
            {
                return (messages, StatusCode.Internal);
            }

            messages++;
            at = start + (int)declared;
        }

        return (messages, null);
    }

    private static byte[] Framed(byte flag, uint declared, byte[] payload)
    {
        var frame = new byte[GrpcProtocol.HeaderSize + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declared);
        payload.CopyTo(frame, GrpcProtocol.HeaderSize);
        return frame;
    }
}
