// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Outages": a backend that hangs. It accepts the provider node's connections and
/// never answers a byte. Every call to it must end with the service's deadline as
/// <c>Server.ServerProxy.ServiceTimeout</c>; the node must not pile up threads or connections
/// while calls wait; and calls to the node's other service are answered throughout.
/// </summary>
public sealed class HangingBackendTests
{
    private const int HangingCalls = 200;
    private const string HangService = ProofBus.Transport + "/driving-licence/hang/v1";

    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task CallsToAHangingBackend_EndAtTheDeadline_WithBoundedThreads_AndOtherCallsGoOn()
    {
        using var hanging = new TcpListener(IPAddress.Loopback, 0);
        hanging.Start(backlog: 1024);
        var held = new List<TcpClient>();
        using var stopAccepting = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            // Accept and hold every connection, read nothing, write nothing.
            while (!stopAccepting.IsCancellationRequested)
            {
                try
                {
                    held.Add(await hanging.AcceptTcpClientAsync(stopAccepting.Token));
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        var port = ((IPEndPoint)hanging.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        await Xbus.MustAsync(_bus.Root, "node", "service", "add", HangService, "--data", _bus.ProviderData, "--backend", "http",
            "--address", $"http://127.0.0.1:{port}/hang", "--timeout-ms", "2000");
        await Xbus.MustAsync(_bus.Root, "node", "acl", "allow", HangService, ProofBus.Client, "--data", _bus.ProviderData);

        using var local = BusChannel.Create(new Uri(_bus.ClientLocal), new BusChannelOptions());
        await WaitUntilTheNodeAppliedTheServiceAsync(local);
        var threadsBefore = Threads(_bus.ProviderNode.ProcessId);

        var calls = Enumerable.Range(0, HangingCalls).Select(_ => CallHangingAsync(local)).ToArray();
        var others = new List<string>();
        while (!calls.All(c => c.IsCompleted))
        {
            others.Add((await ProofBus.CallAsync(local, "VN-CITIZEN-0000000001")).MessageId);
        }

        var threadsAtPeak = Threads(_bus.ProviderNode.ProcessId);
        var codes = await Task.WhenAll(calls);
        await stopAccepting.CancelAsync();
        await accepting;

        // No connection is left behind: the node closes each one whose call it gave up on.
        var closed = 0;
        using (var giveUp = new CancellationTokenSource(ProofBus.Patience))
        {
            foreach (var client in held)
            {
                closed += await ClosedByPeerAsync(client, giveUp.Token) ? 1 : 0;
                client.Dispose();
            }
        }

        TestContext.Progress.WriteLine($"{HangingCalls} calls to a hanging backend: {codes.Count(c => c == NodeErrors.ServiceTimeout)} timed out; " +
            $"{others.Count} other calls answered meanwhile; provider threads {threadsBefore} before, {threadsAtPeak} while waiting; {held.Count} backend connections");
        Assert.That(codes, Is.All.EqualTo(NodeErrors.ServiceTimeout));
        Assert.That(closed, Is.EqualTo(held.Count), "backend connections the node closed after the deadline");
        Assert.That(others, Is.Not.Empty, "the node's other service was answered while the hanging calls waited");

        // Waiting calls are async: they must not each hold a thread.
        Assert.That(threadsAtPeak, Is.LessThan(threadsBefore + 50), "threads of the provider's node while 200 calls waited on its backend");

        // And after: the node answers as before.
        Assert.That((await ProofBus.CallAsync(local, "VN-CITIZEN-0000000002")).Payload.ToStringUtf8(), Does.Contain("VN-CITIZEN-0000000002"));
    }

    private static async Task<string?> CallHangingAsync(GrpcChannel local)
    {
        try
        {
            await new Contracts.Node.V1.LocalGateway.LocalGatewayClient(local).CallAsync(new Contracts.Node.V1.CallRequest
            {
                Service = HangService,
                Client = ProofBus.Client,
                UserId = "officer-17",
            }, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(2))).ResponseAsync;
            return "answered";
        }
        catch (RpcException ex)
        {
            return ex.ErrorCode;
        }
    }

    /// <summary>node.json is polled every 2 s: the service exists once a call to it reaches the (hanging) backend.</summary>
    private static async Task WaitUntilTheNodeAppliedTheServiceAsync(GrpcChannel local)
    {
        using var giveUp = new CancellationTokenSource(ProofBus.Patience);
        while (await CallHangingAsync(local) != NodeErrors.ServiceTimeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), giveUp.Token);
        }
    }

    /// <summary>Reads (and drops) what the node sent until it closes the connection.</summary>
    private static async Task<bool> ClosedByPeerAsync(TcpClient client, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (await client.GetStream().ReadAsync(buffer, cancellationToken) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            // Reset by the node: closed too.
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static int Threads(int processId) =>
        int.Parse(File.ReadLines($"/proc/{processId}/status").Single(l => l.StartsWith("Threads:", StringComparison.Ordinal))["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
}
