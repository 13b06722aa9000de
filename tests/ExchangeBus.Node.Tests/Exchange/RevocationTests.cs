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

/// <summary>
/// The central authority revokes a certificate: a member's signing certificate (nothing it signs
/// is accepted any more), a node's authentication certificate (the node leaves the configuration
/// and its peers refuse it), the OCSP responder's or the TSA's (nodes stop trusting what it signs).
/// </summary>
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

    [Test]
    public async Task RevokedClientNodeAuthCertificate_LeavesConfiguration_AndTheProviderRefusesIt()
    {
        await using var bus = await BusFixture.StartAsync();
        using var local = bus.LocalChannel();
        await CallAsync(local);
        var calls = bus.BackendCalls;
        var node = bus.ClientNode;

        await RevokeAsync(bus, node.Keys.Authentication.SerialNumber, "keyCompromise");

        Assert.That(bus.Registry.Store.CurrentView()!.FindNodeByAuthCertificate(node.Keys.Authentication), Is.Null, "the next configuration does not list it");
        await RefreshAsync(bus);

        // Straight to the provider's peer listener with the revoked certificate and a valid signature.
        using var peer = bus.PeerChannel(node.Keys.Authentication);
        var direct = await Assert.ThrowsAsync<RpcException>(() => new ExchangeClient(peer).DeliverAsync(bus.SignAsClient(bus.RequestHeader())).ResponseAsync);
        Assert.That((direct!.StatusCode, direct.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, NodeErrors.UnregisteredNode)));
        Assert.That(direct.CorrelationId, Is.Not.Empty);

        // Through its own node, on the connection it already had to the provider.
        var relayed = await Assert.ThrowsAsync<RpcException>(() => CallAsync(local));
        Assert.That(relayed!.ErrorCode, Is.EqualTo(NodeErrors.UnregisteredNode));
        Assert.That(bus.BackendCalls, Is.EqualTo(calls));
    }

    [Test]
    public async Task RevokedProviderNodeAuthCertificate_ClientsNoLongerCallIt()
    {
        await using var bus = await BusFixture.StartAsync();
        using var local = bus.LocalChannel();
        await CallAsync(local);
        var calls = bus.BackendCalls;

        await RevokeAsync(bus, bus.ProviderNode.Keys.Authentication.SerialNumber, "keyCompromise");
        await RefreshAsync(bus);

        var refused = await Assert.ThrowsAsync<RpcException>(() => CallAsync(local));
        Assert.That(refused!.ErrorCode, Is.EqualTo(NodeErrors.NoProviderNode));
        Assert.That(bus.BackendCalls, Is.EqualTo(calls));
    }

    [Test]
    public async Task RevokedOcspResponderCertificate_NodesRefuseWhatItSigns()
    {
        await using var bus = await BusFixture.StartAsync();
        var node = bus.ClientNode;
        var ca = node.Configuration.Latest!.CertificateAuthorities.Single();
        using var http = new HttpClient();

        await RevokeAsync(bus, bus.Registry.Keys.Ocsp.SerialNumber, "keyCompromise");
        await RefreshAsync(bus);

        // What the registry's responder (still holding the revoked key) signs about the client's signing key.
        var answer = await new OcspClient(http, ca.OcspUrl, new OcspResponseVerifier(TimeProvider.System)).CheckAsync(node.Keys.Signing, ca.Certificate);
        Assert.That(answer.Status, Is.EqualTo(OcspCertificateStatus.Good));
        Assert.That(await node.OwnStatus.RefreshAsync(CancellationToken.None), Is.False, "the node refuses its own status from the revoked responder");

        var header = bus.RequestHeader();
        var envelope = bus.SignAsClient(header);
        envelope.SignerOcspResponse = ByteString.CopyFrom(answer.Response.Span);
        using var peer = bus.PeerChannel(node.Keys.Authentication);
        var refused = await Assert.ThrowsAsync<RpcException>(() => new ExchangeClient(peer).DeliverAsync(envelope).ResponseAsync);
        Assert.That(refused!.ErrorCode, Is.EqualTo(NodeErrors.InvalidOcsp));
    }

    [Test]
    public async Task RevokedTimeStampingCertificate_NodesNoLongerTakeItsTokens()
    {
        await using var bus = await BusFixture.StartAsync();
        using var local = bus.LocalChannel();
        await CallAsync(local);
        Assert.That((await bus.ClientNode.Stamper.StampAsync(CancellationToken.None)).Failure, Is.Null);

        await RevokeAsync(bus, bus.Registry.Keys.TimeStamping.SerialNumber, "keyCompromise");
        await RefreshAsync(bus);
        await CallAsync(local);

        var round = await bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        Assert.That(round.Failure, Is.Not.Null, "no time-stamp is taken from the revoked TSA");
        Assert.That(round.HeadsMade, Is.Zero);
    }

    private static async Task RevokeAsync(BusFixture bus, string serial, string reason)
    {
        using var admin = bus.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = serial, Reason = reason }).ResponseAsync;
    }

    private static async Task RefreshAsync(BusFixture bus)
    {
        // The poll loop may have installed it first; either way each node ends on the registry's newest.
        var newest = bus.Registry.Store.CurrentConfiguration().Version;
        foreach (var node in bus.ProviderNodes.Append(bus.ClientNode))
        {
            await node.Configuration.RefreshAsync(CancellationToken.None);
            Assert.That(node.Configuration.Latest!.Version, Is.EqualTo(newest));
        }
    }

    private static Task<CallResponse> CallAsync(global::Grpc.Net.Client.GrpcChannel local) =>
        new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8("x"),
        }).ResponseAsync;
}
