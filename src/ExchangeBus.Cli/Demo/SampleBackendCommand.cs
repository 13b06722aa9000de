// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;

namespace ExchangeBus.Cli.Demo;

/// <summary>
/// <c>xbus sample-backend</c>: the demo's driving-licence service (HTTP, <c>POST /licence</c>), or
/// with <c>--grpc</c> its citizen registry (gRPC, <c>samples.citizen.v1.CitizenRegistry</c>), on
/// loopback, so an operator following docs/deploy.md or docs/clients.md has a backend to put behind a node.
/// </summary>
internal static class SampleBackendCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Loopback port to listen on.", DefaultValueFactory = _ => 8080 };
        var grpc = new Option<bool>("--grpc") { Description = "Serve the sample citizen registry over gRPC (samples.citizen.v1.CitizenRegistry, proto/samples/citizen_registry.proto) instead." };
        var command = new Command("sample-backend", "Run a sample agency service on 127.0.0.1 until stopped: HTTP POST /licence answering JSON, or with --grpc the CitizenRegistry gRPC service.") { port, grpc };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var owned = new List<IAsyncDisposable>();
            try
            {
                var typed = parse.GetValue(grpc);
                var address = await DemoCommand.StartBackendAsync(owned, typed, parse.GetValue(port)).ConfigureAwait(false);
                parse.InvocationConfiguration.Output.WriteLine(typed
                    ? $"sample backend serving {SampleCitizenRegistry.ServiceName} (plaintext HTTP/2): {address}"
                    : $"sample backend serving: {address}");
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM or Ctrl+C.
            }
            finally
            {
                foreach (var host in owned)
                {
                    await host.DisposeAsync().ConfigureAwait(false);
                }
            }
        }));
        return command;
    }
}
