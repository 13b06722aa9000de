// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Signing;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 15, item 9, as operators and an attacker would meet it: the registry disables the
/// province's one-stop subsystem with <c>xbus registry subsystem disable</c>; its own node then
/// refuses it, and a request signed with the province's real key and sent over its node's real
/// TLS identity straight to the ministry's node is refused there too, before the backend.
/// </summary>
public sealed class DisabledSubsystemProofTests
{
    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync("""{ "refreshIntervalSeconds": 2 }""");

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task DisabledSubsystem_RefusedByItsOwnNode_AndByTheProviderWhenSentStraightThere()
    {
        using var local = BusChannel.Create(new Uri(_bus.ClientLocal), new BusChannelOptions());
        await ProofBus.CallAsync(local, "citizen-1");

        await Xbus.MustAsync(_bus.Root, "registry", "subsystem", "disable", ProofBus.Client, "--data", _bus.RegistryData);
        // Refused by the ministry's node until its own has polled, if the ministry's polled first.
        await RefusedAsync(() => ProofBus.CallAsync(local, "citizen-2"), until: "Server.ClientProxy.UnknownClient");

        // The province's own keys, as anyone holding its node's data folder has them.
        using var keys = NodeKeys.Load(new NodePaths(_bus.ClientData));
        var ocsp = await File.ReadAllBytesAsync(Path.Combine(_bus.ClientData, "signing.ocsp.der"));
        var root = ConfigurationAnchor.Read(Path.Combine(_bus.Root, "anchor.json")).RegistryTlsTrustRoots;
        using var peer = BusChannel.Create(new Uri(_bus.ProviderPeer), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust(root, TimeProvider.System),
            ClientCertificate = keys.Authentication,
        });

        // The ministry's node polls the registry every 2 s: answered until it has the new configuration.
        var straight = await RefusedAsync(() => new Exchange.ExchangeClient(peer).DeliverAsync(Signed(keys, ocsp)).ResponseAsync);
        Assert.That(straight.ErrorCode, Is.EqualTo("Server.ServerProxy.UnknownClient"), straight.Status.Detail);
    }

    private static SignedEnvelope Signed(NodeKeys keys, byte[] ocsp) => EnvelopeBuilder.Build(
        new MessageHeader
        {
            Kind = MessageKind.Request,
            MessageId = Guid.NewGuid().ToString("N"),
            Client = ProofBus.Client,
            Service = ProofBus.Service,
            SubjectId = "citizen-3",
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            SenderNode = ProofBus.Province + "/ss1",
        },
        ByteString.CopyFromUtf8("""{"licence":"citizen-3"}"""), keys.Signer, keys.SigningCertificateDer, ocsp, out _);

    /// <summary>
    /// Calls until a call is refused (with <paramref name="until"/>, when given: a node learns of
    /// the change at its next poll), and returns the refusal.
    /// </summary>
    private static async Task<RpcException> RefusedAsync<T>(Func<Task<T>> call, string? until = null)
    {
        using var patience = new CancellationTokenSource(ProofBus.Patience);
        while (true)
        {
            try
            {
                await call();
            }
            catch (RpcException ex) when (until is null || ex.ErrorCode == until)
            {
                return ex;
            }
            catch (RpcException)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), patience.Token);
        }
    }
}
