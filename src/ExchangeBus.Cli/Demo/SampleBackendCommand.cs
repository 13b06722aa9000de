// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;

namespace ExchangeBus.Cli.Demo;

/// <summary>
/// <c>xbus sample-backend</c>: the demo's driving-licence service (HTTP, <c>POST /licence</c>) on
/// loopback, so an operator following docs/deploy.md has a backend to put behind a node.
/// </summary>
internal static class SampleBackendCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Loopback port to listen on.", DefaultValueFactory = _ => 8080 };
        var command = new Command("sample-backend", "Run a sample agency service (HTTP POST /licence, answers JSON) on 127.0.0.1 until stopped.") { port };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async () =>
        {
            var owned = new List<IAsyncDisposable>();
            try
            {
                var address = await DemoCommand.StartBackendAsync(owned, grpc: false, parse.GetValue(port)).ConfigureAwait(false);
                parse.InvocationConfiguration.Output.WriteLine($"sample backend serving: {address}");
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
