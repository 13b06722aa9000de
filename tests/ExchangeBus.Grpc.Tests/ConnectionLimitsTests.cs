// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Testing;
using ExchangeBus.Testing.V1;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Grpc.Tests;

/// <summary>
/// <see cref="ConnectionLimits"/> on the transport's own server, over real mutual TLS
/// (docs/reliability.md, "Hostile peers"): the idle guard closes a connection that carries
/// pings but no calls, and leaves alone one whose call outlasts twice the idle timeout.
/// </summary>
[NonParallelizable]
public sealed class ConnectionLimitsTests
{
    private static readonly ConnectionLimits Short = new() { IdleTimeout = TimeSpan.FromSeconds(1) };

    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(60);

    [Test]
    public void ApplyTo_SetsKestrelsLimits()
    {
        var kestrel = new Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions();
        var limits = new ConnectionLimits { KeepAliveTimeout = TimeSpan.FromSeconds(7), RequestHeadersTimeout = TimeSpan.FromSeconds(8), MinRequestBodyBytesPerSecond = 99, MaxStreamsPerConnection = 9 };

        limits.ApplyTo(kestrel);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(kestrel.Limits.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(kestrel.Limits.RequestHeadersTimeout, Is.EqualTo(TimeSpan.FromSeconds(8)));
            Assert.That(kestrel.Limits.MinRequestBodyDataRate!.BytesPerSecond, Is.EqualTo(99));
            Assert.That(kestrel.Limits.Http2.MaxStreamsPerConnection, Is.EqualTo(9));
        }
    }

    [Test]
    public async Task ConnectionKeptBusyWithPingsButNoCalls_Closed()
    {
        await using var server = await GrpcTestServer.StartMutualTlsAsync(limits: Short);
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectAsync($"127.0.0.1:{server.Address.Port}", TestCertificates.Instance.Client, giveUp.Token);
        await peer.WriteAsync(RawHttp2Peer.Preface(), giveUp.Token);

        Assert.That(await peer.PingUntilLetGoAsync(giveUp.Token), Is.AnyOf("GOAWAY", "connection closed"));
    }

    [Test]
    public async Task CallLongerThanTwiceTheIdleTimeout_Completes()
    {
        // Were the call not counted, the guard would abort its connection at twice the idle
        // timeout, under the call. (Whether the next call reuses the connection is not asserted:
        // on a loaded machine the connection may sit idle long enough before or after the call.)
        await using var server = await GrpcTestServer.StartMutualTlsAsync(limits: Short);
        using var channel = server.CreateChannel(TestCertificates.Instance.Client);
        var client = new Interop.InteropClient(channel);

        var reply = await client.UnaryAsync(new EchoRequest { Text = "slow", DelayMs = 3_000 }, new CallOptions(deadline: DateTime.UtcNow.Add(GiveUp)));
        var again = await client.UnaryAsync(new EchoRequest { Text = "next" }, new CallOptions(deadline: DateTime.UtcNow.Add(GiveUp)));

        Assert.That(reply.Text, Is.EqualTo("slow"));
        Assert.That(again.Text, Is.EqualTo("next"));
    }

    [Test]
    public async Task HandshakeLaterThanTwiceTheIdleTimeout_TheFirstCallIsServed()
    {
        // The handshake has its own timeout (10 s here); the idle clock starts after it. When the
        // guard ran before TLS, a handshake this late met an aborted connection: on a loaded machine
        // that was a first call failing with Unavailable.
        await using var server = await GrpcTestServer.StartMutualTlsAsync(limits: Short);
        using var giveUp = new CancellationTokenSource(GiveUp);
        await using var peer = await RawHttp2Peer.ConnectWithLateHandshakeAsync(
            $"127.0.0.1:{server.Address.Port}", TestCertificates.Instance.Client, Short.IdleTimeout * 2.5, giveUp.Token);
        await peer.WriteAsync(
            [
                .. RawHttp2Peer.Preface(),
                .. RawHttp2Peer.RequestHeaders(InteropService.UnaryPath),
                .. RawHttp2Peer.DataFrame(RawHttp2Peer.GrpcMessage(new EchoRequest { Text = "late" }.ToByteArray()), endStream: true),
            ],
            giveUp.Token);

        Assert.That(await peer.ServerLetsGoAsync(giveUp.Token), Is.EqualTo("stream ended by the server"));
    }
}
