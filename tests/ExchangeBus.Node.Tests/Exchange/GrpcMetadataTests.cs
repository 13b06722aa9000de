// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Exchange;
using Grpc.Core;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// Which of a typed call's headers cross, and how binary ones are signed (docs/design/agency-protocols.md,
/// "Metadata"): as their base64 in the signed map, back to the same bytes on the other node.
/// </summary>
public sealed class GrpcMetadataTests
{
    [Test]
    public void BinaryHeaders_SignedAsBase64_ComeBackAsTheSameBytes_OneEntryPerValue()
    {
        var headers = new Metadata
        {
            { "x-trace-bin", new byte[] { 0, (byte)',', 0xFF } },
            { "x-trace-bin", new byte[] { 7 } },
            { "x-empty-bin", Array.Empty<byte>() },
            { "x-note", "text" },
        };
        var signed = new Dictionary<string, string>(StringComparer.Ordinal);

        GrpcMetadata.ToSigned(headers, signed);
        var back = GrpcMetadata.FromSigned(signed);

        Assert.That(signed["grpc.md.x-trace-bin"], Is.EqualTo("ACz/, Bw=="));
        Assert.That(back.GetAll("x-trace-bin").Select(e => e.ValueBytes), Is.EqualTo(new[] { new byte[] { 0, (byte)',', 0xFF }, [7] }));
        Assert.That(back.GetValueBytes("x-empty-bin"), Is.Empty);
        Assert.That(back.GetValue("x-note"), Is.EqualTo("text"));
    }

    [Test]
    public void TheBusesTransportAndCredentialHeaders_DoNotCross_BinaryOrNot()
    {
        var headers = new Metadata
        {
            { "x-road-id", "forged" },
            { "x-xbus-client-bin", new byte[] { 1 } },
            { "grpc-trace-bin", new byte[] { 1 } },
            { "authorization", "Bearer secret" },
            { "te", "trailers" },
            { "x-ok-bin", new byte[] { 1 } },
        };
        var signed = new Dictionary<string, string>(StringComparer.Ordinal);

        GrpcMetadata.ToSigned(headers, signed);

        Assert.That(signed.Keys, Is.EquivalentTo(new[] { "grpc.md.x-ok-bin" }));
    }

    [Test]
    public void SignedBinaryValueThatIsNotBase64_Dropped_TheRestKept()
    {
        var back = GrpcMetadata.FromSigned(new Dictionary<string, string>
        {
            ["grpc.md.x-bad-bin"] = "AQ==, *not base64*",
            ["grpc.md.x-good-bin"] = "AQ==",
            ["grpc.md.x-road-id"] = "forged",
            ["rest.method"] = "GET",
        });

        Assert.That(back.Select(e => e.Key), Is.EqualTo(new[] { "x-good-bin" }));
    }
}
