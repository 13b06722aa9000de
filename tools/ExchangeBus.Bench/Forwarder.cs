// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Grpc;
using Microsoft.AspNetCore.Builder;
using Grpc.Core;

namespace ExchangeBus.Bench;

/// <summary>
/// <c>xbus bench forwarder</c> (hidden): one hop of the benchmark's baseline. It passes the bytes
/// of a call (unary, or streamed either way) on to the next hop and the answers back, with the same gRPC transport the
/// nodes use, over plaintext loopback: no signing, no checks, no message log, no logging.
/// </summary>
internal static class Forwarder
{
    /// <summary>The method the benchmark's backend answers and each forwarder passes on.</summary>
    public static readonly Method<byte[], byte[]> Echo = BytesGrpcMethods.Method(MethodType.Unary, "/bench.Backend/Echo");

    public const string ReadyText = "forwarder ready";

    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Loopback port to listen on.", Required = true };
        var next = new Option<string>("--next") { Description = "http://host:port of the next hop.", Required = true };
        var command = new Command("forwarder", "One plaintext gRPC hop of the exchange benchmark's baseline.") { port, next };
        command.Hidden = true;
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, () =>
            RunAsync(parse.GetValue(port), new Uri(parse.GetValue(next)!), parse.InvocationConfiguration.Output, cancellationToken)));
        return command;
    }

    /// <summary>Maps <see cref="Echo"/>, answered by <paramref name="handler"/>, and the streaming methods <paramref name="streaming"/> adds.</summary>
    public static void MapEcho(WebApplication app, UnaryServerMethod<byte[], byte[]> handler, Action<BytesGrpcMethods> streaming) =>
        app.MapBytesGrpcService(methods => streaming(methods.AddUnary(Echo, handler)));

    private static async Task RunAsync(int port, Uri next, TextWriter output, CancellationToken cancellationToken)
    {
        using var channel = BusChannel.Create(next, new BusChannelOptions());
        await using var host = await LoopbackHost.StartAsync(port, grpc: true, app => MapEcho(app, (request, context) =>
            channel.CreateCallInvoker().AsyncUnaryCall(Echo, host: null, new CallOptions(deadline: context.Deadline, cancellationToken: context.CancellationToken), request).ResponseAsync,
            methods => StreamingEcho.MapForwarder(methods, channel.CreateCallInvoker()))).ConfigureAwait(false);
        output.WriteLine($"{ReadyText} on {host.Address}, next hop {next}");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM: the host stops when disposed.
        }
    }
}
