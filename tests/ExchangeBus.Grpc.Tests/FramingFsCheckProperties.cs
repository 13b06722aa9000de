// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Testing.V1;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Grpc.Tests;

/// <summary>
/// FsCheck property over the message framing of a real bus server (docs/reliability.md, "Random
/// input"): request bodies of frames with wrong flags, lying length prefixes (up to 4 GiB),
/// payloads that are not protobuf and a cut anywhere, flushed in random pieces over mutual TLS to
/// the client-streaming method. Every call must end in a gRPC status on an HTTP 200 response (no
/// reset, no dropped connection, no hang), the status a reference reading of the same bytes
/// gives; when that is OK, the reply must count exactly the messages the reference counts (none
/// lost, none made up, none over the limit). The same server answers an ordinary call after.
/// </summary>
[NonParallelizable]
public sealed class FramingFsCheckProperties
{
    private const int Limit = 1024;
    private const int MaxChunk = 64;

    private static readonly Gen<byte[]> Payload = Gen.Frequency(
        (6, from text in Gen.Choose(0, Limit - 16).SelectMany(n => Gen.Elements('a', 'b', '\u00e9').ArrayOf(n))
            from repeat in Gen.Choose(0, 5)
            select new EchoRequest { Text = new string(text), Repeat = repeat }.ToByteArray()),
        (1, Gen.Choose(0, Limit).SelectMany(n => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(n)).Where(AsksNothingOfTheHandler)));

    private static readonly Gen<byte[]> Frame =
        from payload in Payload
        from flag in Gen.Frequency((30, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Choose(2, 255)))
        from declared in Gen.Frequency(
            (30, Gen.Constant((uint)payload.Length)),
            (1, Gen.Constant(uint.MaxValue)),
            (1, Gen.Choose(Limit + 1, int.MaxValue).Select(n => (uint)n)),
            (1, Gen.Choose(0, Limit).Select(n => (uint)n)))
        select RawGrpc.Frame((byte)flag, declared, payload);

    private static readonly Gen<(byte[] Stream, int[] Chunks)> Streams =
        from frames in Frame.ListOf().Select(f => f.Take(8).ToArray())
        let whole = frames.SelectMany(f => f).ToArray()
        from cut in Gen.Frequency((3, Gen.Constant(whole.Length)), (1, Gen.Choose(0, whole.Length)))
        from chunks in Gen.Choose(1, MaxChunk).ArrayOf(Math.Max(cut, 1))
        select (whole[..cut], chunks);

    [Test]
    public async Task AnyRequestBody_AnsweredWithTheStatusTheReferenceReadingGives()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync(o => o.MaxReceiveMessageSize = Limit);
        using var invoker = RawGrpc.Invoker();
        var uri = new Uri(server.Address, InteropService.ClientStreamPath);
        var outcomes = new Dictionary<StatusCode, int>();

        Prop.ForAll(Streams.ToArbitrary(), t =>
        {
            var answer = RawGrpc.SendAsync(invoker, uri, t.Stream, chunks: t.Chunks).GetAwaiter().GetResult();
            var (expectedMessages, expectedStatus) = Reference(t.Stream);

            Assert.That(answer.Http, Is.EqualTo(System.Net.HttpStatusCode.OK), $"{t.Stream.Length} bytes");
            Assert.That(answer.Status, Is.EqualTo(((int)expectedStatus).ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{t.Stream.Length} bytes: {answer.Message}");
            if (expectedStatus == StatusCode.OK)
            {
                Assert.That(EchoReply.Parser.ParseFrom(answer.Body.AsSpan(5)).Index, Is.EqualTo(expectedMessages), $"{t.Stream.Length} bytes");
            }

            outcomes[expectedStatus] = outcomes.GetValueOrDefault(expectedStatus) + 1;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));

        TestContext.Out.WriteLine("outcomes: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { StatusCode.OK, StatusCode.Internal, StatusCode.ResourceExhausted, StatusCode.Unknown }), "the generator reached every outcome");
        var reply = await new Interop.InteropClient(server.CreateChannel()).UnaryAsync(new EchoRequest { Text = "after" });
        Assert.That(reply.Text, Is.EqualTo("after"));
    }

    /// <summary>
    /// The same bytes read the plain way, all at once, as Grpc.AspNetCore reads a request stream:
    /// a cut inside a prefix or a message and a compressed flag without grpc-encoding are INTERNAL;
    /// a declared length over the limit is RESOURCE_EXHAUSTED, from the prefix alone; a flag other
    /// than 0 or 1, a length of 2 GiB or more, and bytes that do not parse are exceptions inside the
    /// handler's read, answered UNKNOWN by the ErrorInterceptor.
    /// </summary>
    private static (int Messages, StatusCode Status) Reference(byte[] stream)
    {
        var messages = 0;
        var at = 0;
        while (at < stream.Length)
        {
            if (stream.Length - at < 5)
            {
                return (messages, StatusCode.Internal);
            }

            var flag = stream[at];
            var declared = BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(at + 1));
            if (flag > 1 || declared > int.MaxValue)
            {
                return (messages, StatusCode.Unknown);
            }

            if (declared > Limit)
            {
                return (messages, StatusCode.ResourceExhausted);
            }

            var start = at + 5;
            if (stream.Length - start < declared || flag == 1)
            {
                return (messages, StatusCode.Internal);
            }

            try
            {
                EchoRequest.Parser.ParseFrom(stream, start, (int)declared);
            }
            catch (InvalidProtocolBufferException)
            {
                return (messages, StatusCode.Unknown);
            }

            messages++;
            at = start + (int)declared;
        }

        return (messages, StatusCode.OK);
    }

    /// <summary>Random bytes that parse as a request asking for a delay or a failure would test the handler, not the framing.</summary>
    private static bool AsksNothingOfTheHandler(byte[] payload)
    {
        try
        {
            var request = EchoRequest.Parser.ParseFrom(payload);
            return request.DelayMs == 0 && request.FailWithCode == 0;
        }
        catch (InvalidProtocolBufferException)
        {
            return true;
        }
    }
}
