// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Signing;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Core.Tests.Signing;

/// <summary>
/// Known answers: the envelopes the three copies this builder replaced (ClientExchange,
/// ProviderExchange.Sign, FileDocuments.Sign) made from these inputs, captured from them before
/// the change. ECDSA signatures are randomised, so the envelope is compared without its signature
/// and the signature is verified over the known to-be-signed value.
/// </summary>
public sealed class EnvelopeBuilderTests
{
    private const string RequestToBeSigned = "caa7c3cc88b615ac820817e8c17c2664f1dc3ca8f107e6660e773c042a3745d080aa35fc24617b44311c3976404751fde82bed9af98865000f65a7eb01dc7e97";
    private const string RequestUnsigned = "0aba010801122030313233343536373839616263646566303132333435363738396162636465661a1645452f474f562f37303030303030312f636c69656e74222545452f474f562f37303030303030322f72656769737472792f676574506572736f6e2f76312a0d45453338303031303130303030320d454534393030323032303030303a07636173652d3137420608c09cd5d8064a1645452f474f562f37303030303030312f6e6f64652d315a060a01621201325a060a0161120131121a7b22706572736f6e223a2245453439303032303230303030227d220f6365727469666963617465204445522a114f43535020726573706f6e736520444552";
    private const string ResponseToBeSigned = "3822a24e37799445b68b9b24276334b5341861f25d694863b6eab83782fac476ab78a27a2eacc8f63d1e5b3c0748fe63f544b375586b34568b63500bb1976a17";
    private const string ResponseUnsigned = "0adc010802122030313233343536373839616263646566303132333435363738396162636465661a1645452f474f562f37303030303030312f636c69656e74222545452f474f562f37303030303030322f72656769737472792f676574506572736f6e2f76312a0d45453338303031303130303030320d454534393030323032303030303a07636173652d3137420608c09cd5d8064a1645452f474f562f37303030303030322f6e6f64652d3252205e300f508d9ceca7d64357c5eb0d1b6268ac10d443dad137e914c3032e7939ca5a0e0a07782d7265706c791203796573120f7b226e616d65223a224d617269227d220f6365727469666963617465204445522a114f43535020726573706f6e736520444552";
    private const string ManifestToBeSigned = "d1dbb52cbcc2f9edd8c0e2d16049ed88dee34d26a00e50bcca6a052c58e8cb67994659de87f727ddcde75df44314f31d7f367b3bff347e852f390530f29720c7";
    private const string ManifestUnsigned = "0adb010804120666696c652d311a1645452f474f562f37303030303030312f636c69656e74222245452f474f562f37303030303030322f696e626f782f7265636569766546696c6573320d454534393030323032303030303a09646f73736965722d39420608c09cd5d8064a1645452f474f562f37303030303030312f6e6f64652d315a0d0a046e616d651205612e7064665a4a0a06736861323536124039393436353964653837663732376464636465373564663434333134663331643766333637623362666633343765383532663339303533306632393732306337220f6365727469666963617465204445522a114f43535020726573706f6e736520444552";

    private static readonly byte[] Certificate = "certificate DER"u8.ToArray();
    private static readonly byte[] Ocsp = "OCSP response DER"u8.ToArray();
    private static readonly Timestamp At = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));

    private ECDsa _key = null!;
    private EnvelopeSigner _signer = null!;

    [SetUp]
    public void SetUp()
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _signer = new EnvelopeSigner(_key);
    }

    [TearDown]
    public void TearDown() => _key.Dispose();

    [Test]
    public void Build_Request_SameBytesAsBefore()
    {
        var envelope = EnvelopeBuilder.Build(Request(), ByteString.CopyFromUtf8("{\"person\":\"EE49002020000\"}"), _signer, Certificate, Ocsp, out var toBeSigned);

        Assert.That(Convert.ToHexStringLower(toBeSigned), Is.EqualTo(RequestToBeSigned));
        AssertKnown(envelope, RequestUnsigned, RequestToBeSigned);
        Assert.That(EnvelopeVerifier.Verify(envelope.Header.Span, envelope.Body.Span, envelope.Signature.Span, _key), Is.True);
    }

    [Test]
    public void Build_Response_SameBytesAsBefore()
    {
        // A response repeats the request's fields (ProviderExchange.Sign) and adds its own.
        var response = Request();
        response.Kind = MessageKind.Response;
        response.SenderNode = "EE/GOV/70000002/node-2";
        response.RequestHash = ByteString.CopyFrom(SHA256.HashData(Convert.FromHexString(RequestToBeSigned)));
        response.Metadata.Clear();
        response.Metadata["x-reply"] = "yes";

        var envelope = EnvelopeBuilder.Build(response, ByteString.CopyFrom("{\"name\":\"Mari\"}"u8), _signer, Certificate, Ocsp, out _);

        AssertKnown(envelope, ResponseUnsigned, ResponseToBeSigned);
    }

    [Test]
    public void BuildDetached_FileManifest_SameBytesAsBefore_AndNoBody()
    {
        var fileSha256 = SHA256.HashData("the file"u8);
        var manifest = new MessageHeader
        {
            Kind = MessageKind.FileManifest,
            MessageId = "file-1",
            Client = "EE/GOV/70000001/client",
            Service = "EE/GOV/70000002/inbox/receiveFiles",
            SubjectId = "EE49002020000",
            Issue = "dossier-9",
            CreatedAt = At,
            SenderNode = "EE/GOV/70000001/node-1",
        };
        manifest.Metadata["name"] = "a.pdf";
        manifest.Metadata["sha256"] = Convert.ToHexStringLower(fileSha256);

        var envelope = EnvelopeBuilder.BuildDetached(manifest, fileSha256, _signer, Certificate, Ocsp);

        Assert.That(envelope.Body.IsEmpty, Is.True);
        AssertKnown(envelope, ManifestUnsigned, ManifestToBeSigned);
        Assert.That(EnvelopeVerifier.Verify(envelope.Header.Span, "the file"u8, envelope.Signature.Span, _key), Is.True, "the file is the body it signs");
    }

    private void AssertKnown(SignedEnvelope envelope, string unsignedHex, string toBeSignedHex)
    {
        var unsigned = envelope.Clone();
        unsigned.Signature = ByteString.Empty;
        Assert.That(Convert.ToHexStringLower(unsigned.ToByteArray()), Is.EqualTo(unsignedHex));
        Assert.That(EnvelopeVerifier.VerifyDigest(Convert.FromHexString(toBeSignedHex), envelope.Signature.Span, _key), Is.True);
    }

    private static MessageHeader Request()
    {
        var header = new MessageHeader
        {
            Kind = MessageKind.Request,
            MessageId = "0123456789abcdef0123456789abcdef",
            Client = "EE/GOV/70000001/client",
            Service = "EE/GOV/70000002/registry/getPerson/v1",
            UserId = "EE38001010000",
            SubjectId = "EE49002020000",
            Issue = "case-17",
            CreatedAt = At,
            SenderNode = "EE/GOV/70000001/node-1",
        };
        header.Metadata.Add(new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        return header;
    }
}
