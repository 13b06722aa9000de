// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeClient = ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeClient;
using Grpc.Net.Client;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// A misbehaving neighbour on a real socket: envelopes crafted with the client node's real keys
/// (or a certificate the bus's CA issued but no configuration lists) sent straight to the
/// provider's peer listener. Each refusal has its own code and none reaches the backend.
/// </summary>
[NonParallelizable]
public sealed class HostilePeerTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _peer = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _peer = Channel(_bus.ClientNode.Keys.Authentication);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _peer.Dispose();
        await _bus.DisposeAsync();
    }

    private GrpcChannel Channel(X509Certificate2 clientCertificate) => _bus.PeerChannel(clientCertificate);

    private MessageHeader Header(string client = BusFixture.ClientSubsystem) => _bus.RequestHeader(client);

    private SignedEnvelope Sign(MessageHeader header, string body = "hello") => _bus.SignAsClient(header, body);

    private async Task AssertRefused(SignedEnvelope envelope, string code, GrpcChannel? channel = null)
    {
        var before = _bus.BackendCalls;
        var ex = await Assert.ThrowsAsync<RpcException>(() => new ExchangeClient((channel ?? _peer)).DeliverAsync(envelope).ResponseAsync);
        Assert.That(ex!.ErrorCode, Is.EqualTo(code), ex.Status.Detail);
        Assert.That(ex.CorrelationId, Is.Not.Empty);
        Assert.That(_bus.BackendCalls, Is.EqualTo(before), "the backend must not be reached");
    }

    [Test]
    public async Task GenuineEnvelope_Answered_ThenTheSameAgainIsAReplay()
    {
        var envelope = Sign(Header());
        var response = await new ExchangeClient(_peer).DeliverAsync(envelope).ResponseAsync;
        Assert.That(MessageHeader.Parser.ParseFrom(response.Header).Kind, Is.EqualTo(MessageKind.Response));

        await AssertRefused(envelope, NodeErrors.Replay);
    }

    [Test]
    public async Task TamperedBody_InvalidSignature()
    {
        var envelope = Sign(Header());
        envelope.Body = ByteString.CopyFromUtf8("hellO");
        await AssertRefused(envelope, NodeErrors.InvalidSignature);
    }

    [Test]
    public async Task TamperedHeader_InvalidSignature()
    {
        var envelope = Sign(Header());
        var header = MessageHeader.Parser.ParseFrom(envelope.Header);
        header.UserId = "someone-else";
        envelope.Header = header.ToByteString();
        await AssertRefused(envelope, NodeErrors.InvalidSignature);
    }

    [Test]
    public async Task TamperedSignature_InvalidSignature()
    {
        var envelope = Sign(Header());
        var signature = envelope.Signature.ToByteArray();
        signature[^1] ^= 0x01;
        envelope.Signature = ByteString.CopyFrom(signature);
        await AssertRefused(envelope, NodeErrors.InvalidSignature);
    }

    [Test]
    public async Task HeaderThatIsNotProtobuf_MalformedMessage()
    {
        var envelope = Sign(Header());
        envelope.Header = ByteString.CopyFrom(0xFF, 0xFF, 0xFF);
        await AssertRefused(envelope, NodeErrors.MalformedMessage);
    }

    [Test]
    public async Task ClaimingAnotherMembersClient_SenderMismatch()
    {
        // Signed with our own (valid) key, but naming a client of the provider's member.
        await AssertRefused(Sign(Header(client: BusFixture.ProviderSubsystem)), NodeErrors.SignerNotClient);
    }

    [Test]
    public async Task MissingOcspResponse_Refused()
    {
        var envelope = Sign(Header());
        envelope.SignerOcspResponse = ByteString.Empty;
        await AssertRefused(envelope, NodeErrors.InvalidOcsp);
    }

    [Test]
    public async Task CertificateOfTheBusButOfNoListedNode_UnregisteredNode()
    {
        var keys = Path.Combine(_bus.Root, "registry", "keys");
        using var ca = CertificateAuthority.Load(Path.Combine(keys, DevelopmentPki.RootCertificateFile), Path.Combine(keys, DevelopmentPki.RootKeyFile), TimeProvider.System);
        using var key = EcKeys.GenerateP256();
        using var rogue = ca.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.NodeAuthentication("VN", "GOV", "000.00.00.G01", "rogue"),
            PublicKey = new PublicKey(key),
            Profile = CertificateProfile.NodeAuthentication,
            DnsNames = ["localhost"],
        });
        using var channel = Channel(rogue.CopyWithPrivateKey(key));
        await AssertRefused(Sign(Header()), NodeErrors.UnregisteredNode, channel);
    }

    [Test]
    public async Task OcspResponseOlderThanTheFreshnessLimit_StaleOcsp()
    {
        // The CA's own responder, as it answered two hours ago (the configuration allows one hour).
        var keys = Path.Combine(_bus.Root, "registry", "keys");
        var context = _bus.ClientNode;
        var source = new ExchangeBus.Registry.TrustServices.InMemoryCertificateStatusSource();
        source.SetGood(context.Keys.Signing);
        using var responder = ExchangeBus.Registry.TrustServices.OcspResponder.Load(
            Path.Combine(keys, DevelopmentPki.RootCertificateFile), Path.Combine(keys, DevelopmentPki.OcspCertificateFile), Path.Combine(keys, DevelopmentPki.OcspKeyFile),
            source, new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(2)), Microsoft.Extensions.Logging.Abstractions.NullLogger<ExchangeBus.Registry.TrustServices.OcspResponder>.Instance);
        var old = responder.Respond(ExchangeBus.Core.TrustServices.OcspClient.CreateRequest(context.Keys.Signing, _bus.Registry.Keys.RootCertificate, []));

        var envelope = Sign(Header());
        envelope.SignerOcspResponse = ByteString.CopyFrom(old);
        await AssertRefused(envelope, NodeErrors.StaleOcsp);
    }

    [Test]
    public async Task OldMessage_StaleMessage()
    {
        var header = Header();
        header.CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1));
        await AssertRefused(Sign(header), NodeErrors.StaleMessage);
    }
}
