// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Grpc;

namespace ExchangeBus.Cli.Bench;

/// <summary>
/// <c>xbus bench forwarder</c> (hidden): one hop of the benchmark's baseline. It passes the bytes
/// of a unary call on to the next hop and the answer back, with the same gRPC transport the
/// nodes use, over plaintext loopback: no signing, no checks, no message log, no logging.
/// </summary>
internal static class Forwarder
{
    /// <summary>The method the benchmark's backend answers and each forwarder passes on.</summary>
    public static readonly Method<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>> Echo =
        new(MethodType.Unary, "bench.Backend", "Echo", Marshallers.Bytes, Marshallers.Bytes);

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

    /// <summary>A service answering <see cref="Echo"/> with <paramref name="handler"/>.</summary>
    public static GrpcServiceDefinition Definition(UnaryServerMethod<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>> handler) =>
        GrpcServiceDefinition.CreateBuilder().AddMethod(Echo, handler).Build();

    private static async Task RunAsync(int port, Uri next, TextWriter output, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(next, new GrpcChannelOptions());
        await using var host = await LoopbackHost.StartAsync(port, grpc: true, app => app.MapBusGrpc(Definition((request, context) =>
            channel.UnaryAsync(Echo, request, new CallOptions(Deadline: context.Deadline, CancellationToken: context.CancellationToken))))).ConfigureAwait(false);
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
