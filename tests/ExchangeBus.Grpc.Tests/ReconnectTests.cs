// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core;
using ExchangeBus.Grpc.Tests.Infrastructure;
using ExchangeBus.Testing.V1;
using Grpc.Core;

namespace ExchangeBus.Grpc.Tests;

/// <summary>A bus channel to a server that went away and came back on the same address.</summary>
public sealed class ReconnectTests
{
    [Test]
    public async Task ServerBackOnItsPort_AfterCallsFailedWhileItWasDown_TheNextCallIsAnswered()
    {
        var port = LoopbackPort.PickFree();
        var server = await GrpcTestServer.StartMutualTlsAsync(port: port);
        using var channel = server.CreateChannel();
        var client = new Interop.InteropClient(channel);
        Assert.That((await client.UnaryAsync(new EchoRequest { Text = "before" })).Text, Is.EqualTo("before"));

        // Down for a few seconds, with callers trying all along (as a node's callers do while a peer restarts).
        await server.DisposeAsync();

        // While it is down every call fails at once. Which status the runtime gives a call that
        // meets the connection the server was closing (INTERNAL or UNAVAILABLE) is a matter of
        // timing in grpc-dotnet; this test is about what follows.
        for (var i = 0; i < 8; i++)
        {
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { Text = "down" }));
            Assert.That(ex!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal), $"call {i} while down: {ex.Status}");
            await Task.Delay(TimeSpan.FromMilliseconds(400));
        }

        // Back: the very next call connects. (grpc-dotnet's own connection management kept
        // failing calls, "Error connecting to subchannel", until its reconnect backoff ran out.)
        await using var again = await GrpcTestServer.StartMutualTlsAsync(port: port);
        var reply = await client.UnaryAsync(new EchoRequest { Text = "after" }, deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.That(reply.Text, Is.EqualTo("after"));
    }
}
