// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Testing;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// The registry's gRPC listener asks for no client certificate (nodes register through it), so
/// anyone who can reach it may connect: it must not let a connection that makes no call live
/// for ever. The idle limit is shortened to a second here (60 s by default).
/// </summary>
[NonParallelizable]
public sealed class ConnectionLimitsTests
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(60);

    [Test]
    public async Task ConnectionWithoutCertificate_PingingButNeverCalling_IsLetGo_AndTheRegistryServesOthers()
    {
        await using var registry = await RegistryFixture.StartAsync(limits: new ConnectionLimits { IdleTimeout = TimeSpan.FromSeconds(1) });
        var address = new Uri(registry.Server.GrpcAddress);
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectTlsAsync($"{address.Host}:{address.Port}", giveUp.Token);
        await peer.WriteAsync(RawHttp2Peer.Preface(), giveUp.Token);

        Assert.That(await peer.PingUntilLetGoAsync(giveUp.Token), Is.AnyOf("GOAWAY", "connection closed"));

        using var admin = registry.AdminChannel();
        var members = await new RegistryManagement.RegistryManagementClient(admin).ListMembersAsync(new ListMembersRequest(), new CallOptions(deadline: DateTime.UtcNow.Add(GiveUp))).ResponseAsync;
        Assert.That(members, Is.Not.Null);
    }
}
