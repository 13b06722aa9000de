// SPDX-License-Identifier: Apache-2.0
using System.Buffers;

namespace ExchangeBus.Grpc.Tests;

public sealed class GrpcProtocolTests
{
    [TestCase("1H", 3600_000)]
    [TestCase("2M", 120_000)]
    [TestCase("3S", 3000)]
    [TestCase("250m", 250)]
    [TestCase("99999999m", 99_999_999)]
    public void TryParseTimeout_ValidValue_ParsesMilliseconds(string value, long expectedMs)
    {
        Assert.That(GrpcProtocol.TryParseTimeout(value, out var timeout), Is.True);
        Assert.That((long)timeout.TotalMilliseconds, Is.EqualTo(expectedMs));
    }

    [TestCase("")]
    [TestCase("m")]
    [TestCase("10")]
    [TestCase("123456789S")]
    [TestCase("-5S")]
    [TestCase("5s")]
    [TestCase("5 S")]
    public void TryParseTimeout_MalformedValue_IsRefused(string value) =>
        Assert.That(GrpcProtocol.TryParseTimeout(value, out _), Is.False);

    [Test]
    public void FormatTimeout_AnyDuration_UsesAtMostEightDigitsAndParsesBack()
    {
        foreach (var ms in new long[] { 1, 999, 5_000, 100_000_000, 10_000_000_000 })
        {
            var text = GrpcProtocol.FormatTimeout(TimeSpan.FromMilliseconds(ms));
            Assert.That(text.Length, Is.LessThanOrEqualTo(9), text);
            Assert.That(GrpcProtocol.TryParseTimeout(text, out var parsed), Is.True, text);
            Assert.That(Math.Abs(parsed.TotalMilliseconds - ms), Is.LessThanOrEqualTo(ms / 1000.0 + 1), text);
        }
    }

    [TestCase("plain text")]
    [TestCase("100% sure")]
    [TestCase("Tiếng Việt\nnew line")]
    public void EncodeMessage_ThenDecode_RoundTrips(string message)
    {
        var encoded = GrpcProtocol.EncodeMessage(message);
        Assert.That(encoded.All(c => c is >= ' ' and <= '~'), Is.True, encoded);
        Assert.That(GrpcProtocol.DecodeMessage(encoded), Is.EqualTo(message));
    }

    [Test]
    public void DecodeMessage_BrokenEscape_KeepsTextAsIs() =>
        Assert.That(GrpcProtocol.DecodeMessage("50%zz off %4"), Is.EqualTo("50%zz off %4"));

    [TestCase("AQID")]
    [TestCase("AQIDBA")]
    [TestCase("AQIDBA==")]
    public void TryDecodeBinaryHeader_PaddedOrNot_Decodes(string value) =>
        Assert.That(GrpcProtocol.TryDecodeBinaryHeader(value, out _), Is.True);

    [Test]
    public void TryDecodeBinaryHeader_NotBase64_IsRefused() =>
        Assert.That(GrpcProtocol.TryDecodeBinaryHeader("***", out _), Is.False);

    [Test]
    public void TryReadHeader_FewerThanFiveBytes_WaitsForMore() =>
        Assert.That(GrpcProtocol.TryReadHeader(new ReadOnlySequence<byte>([0, 0, 0]), 100, out _), Is.False);

    [Test]
    public void TryReadHeader_LengthOverLimit_IsResourceExhaustedBeforeBuffering()
    {
        var ex = Assert.Throws<RpcException>(() => GrpcProtocol.TryReadHeader(new ReadOnlySequence<byte>([0, 0xFF, 0xFF, 0xFF, 0xFF]), 4 << 20, out _));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [TestCase((byte)1)]
    [TestCase((byte)7)]
    public void TryReadHeader_CompressedOrUnknownFlag_IsInternal(byte flag)
    {
        var ex = Assert.Throws<RpcException>(() => GrpcProtocol.TryReadHeader(new ReadOnlySequence<byte>([flag, 0, 0, 0, 1]), 100, out _));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Internal));
    }

    [TestCase("application/grpc", true)]
    [TestCase("application/grpc+proto", true)]
    [TestCase("application/grpc; charset=utf-8", true)]
    [TestCase("application/grpc-web", false)]
    [TestCase("application/json", false)]
    [TestCase(null, false)]
    public void IsGrpcContentType_Classifies(string? contentType, bool expected) =>
        Assert.That(GrpcProtocol.IsGrpcContentType(contentType), Is.EqualTo(expected));
}

public sealed class MetadataTests
{
    [TestCase("grpc-status")]
    [TestCase("content-type")]
    [TestCase(":path")]
    [TestCase("te")]
    public void Add_TransportHeader_IsRefused(string key) =>
        Assert.Throws<ArgumentException>(() => new Metadata().Add(key, "x"));

    [TestCase("has space")]
    [TestCase("")]
    [TestCase("ключ")]
    public void Add_InvalidKey_IsRefused(string key) =>
        Assert.Throws<ArgumentException>(() => new Metadata().Add(key, "x"));

    [Test]
    public void Add_BinaryKeyWithText_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new Metadata().Add("trace-bin", "x"));

    [Test]
    public void Add_TextKeyWithBytes_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new Metadata().Add("trace", [1, 2]));

    [Test]
    public void Add_ControlCharacterInValue_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-user", "a\r\nInjected: yes"));

    [Test]
    public void Add_UpperCaseKey_IsNormalised()
    {
        var metadata = new Metadata().Add("X-User", "alice");
        Assert.That(metadata.GetValue("x-user"), Is.EqualTo("alice"));
    }
}

public sealed class ProtoMethodsTests
{
    [Test]
    public void Create_HealthWatch_IsServerStreamingWithItsPath()
    {
        var method = Health.HealthService.WatchMethod;
        Assert.That(method.Type, Is.EqualTo(MethodType.ServerStreaming));
        Assert.That(method.FullName, Is.EqualTo("/grpc.health.v1.Health/Watch"));
    }

    [Test]
    public void Create_WrongMessageTypes_IsRefused() =>
        Assert.Throws<ArgumentException>(() => ProtoMethods.Create<global::Grpc.Health.V1.HealthCheckResponse, global::Grpc.Health.V1.HealthCheckRequest>(
            global::Grpc.Health.V1.HealthReflection.Descriptor.Services[0], "Check"));

    [Test]
    public void Create_UnknownMethod_IsRefused() =>
        Assert.Throws<ArgumentException>(() => ProtoMethods.Create<global::Grpc.Health.V1.HealthCheckRequest, global::Grpc.Health.V1.HealthCheckResponse>(
            global::Grpc.Health.V1.HealthReflection.Descriptor.Services[0], "Nope"));
}
