// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeClient = ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeClient;
using ExchangeBus.Grpc.Tls;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>The central authority revokes a member's signing certificate: nothing it signs is accepted any more.</summary>
[NonParallelizable]
public sealed class RevocationTests
{
    [Test]
    public async Task RevokedSigningCertificate_ProviderRefusesAndOwnNodeStopsSigning()
    {
        await using var bus = await BusFixture.StartAsync();
        var node = bus.ClientNode;
        using (var admin = bus.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = node.Keys.Signing.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;
        }

        // What the CA's responder now says about the key, as a peer would receive it.
        var view = node.Configuration.Latest!;
        var ca = view.CertificateAuthorities.Single();
        using var http = new HttpClient();
        var status = await new OcspClient(http, ca.OcspUrl, new OcspResponseVerifier(TimeProvider.System)).CheckAsync(node.Keys.Signing, ca.Certificate);
        Assert.That(status.Status, Is.EqualTo(OcspCertificateStatus.Revoked));

        var header = new MessageHeader
        {
            Kind = MessageKind.Request,
            MessageId = Guid.NewGuid().ToString("N"),
            Client = BusFixture.ClientSubsystem,
            Service = BusFixture.Service,
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            SenderNode = node.Node.ToString(),
        };
        var headerBytes = header.ToByteArray();
        var envelope = new SignedEnvelope
        {
            Header = ByteString.CopyFrom(headerBytes),
            Body = ByteString.CopyFromUtf8("x"),
            Signature = ByteString.CopyFrom(node.Keys.Signer.Sign(headerBytes, "x"u8)),
            SignerCertificate = ByteString.CopyFrom(node.Keys.SigningCertificateDer),
            SignerOcspResponse = ByteString.CopyFrom(status.Response.Span),
        };
        using var peer = BusChannel.Create(new Uri($"https://{bus.ProviderNode.PeerAddress}"), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([bus.Registry.Keys.RootCertificate], TimeProvider.System),
            ClientCertificate = node.Keys.Authentication,
        });
        var refused = await Assert.ThrowsAsync<RpcException>(() => new ExchangeClient(peer).DeliverAsync(envelope).ResponseAsync);
        Assert.That(refused!.ErrorCode, Is.EqualTo(NodeErrors.CertificateRevoked));

        Assert.That(await node.OwnStatus.RefreshAsync(CancellationToken.None), Is.True);
        using var local = bus.LocalChannel();
        var own = await Assert.ThrowsAsync<RpcException>(() => new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8("x"),
        }).ResponseAsync);
        Assert.That(own!.ErrorCode, Is.EqualTo(NodeErrors.OwnOcspUnavailable));
        Assert.That(bus.BackendCalls, Is.Zero);
    }
}
