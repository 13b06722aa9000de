// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;
using Grpc.Core;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>
/// How a command's failure is said when SIGTERM or Ctrl+C stopped it (System.CommandLine cancels
/// the command's token): `xbus demo` sent SIGTERM during its step 3 printed
/// "error Rpc.Cancelled: Call canceled by the client.", read as a fault of the bus, or, stopped
/// while a node started, exited 1 without a word.
/// </summary>
public sealed class CommandRunnerTests
{
    private static readonly Exception CancelledCall = new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client."));

    [TestCase(true, "error Cli.Stopped: Stopped by SIGTERM or Ctrl+C before it finished.", TestName = "A call cancelled because the command was stopped: said as a stop")]
    [TestCase(false, "error Rpc.Cancelled: Call canceled by the client.", TestName = "A call cancelled while the command runs: still the call's own error")]
    public async Task ACancelledCall(bool stopped, string said)
    {
        var (exit, error) = await RunAsync(stopped, CancelledCall);

        Assert.That(exit, Is.EqualTo(CommandRunner.FailureExitCode));
        Assert.That(error, Is.EqualTo(said + Environment.NewLine));
    }

    [Test]
    public async Task WaitCancelledBecauseTheCommandWasStopped_SaysStopped_InsteadOfExiting1Silently()
    {
        var (exit, error) = await RunAsync(stopped: true, new OperationCanceledException());

        Assert.That(exit, Is.EqualTo(CommandRunner.FailureExitCode));
        Assert.That(error, Does.StartWith("error Cli.Stopped: "));
    }

    [Test]
    public async Task ARefusalWhileStopping_IsStillTheRefusal()
    {
        var (_, error) = await RunAsync(stopped: true, new RpcException(new Status(StatusCode.PermissionDenied, "no")));

        Assert.That(error, Does.StartWith("error Rpc.PermissionDenied: no"));
    }

    /// <summary>A command whose action throws <paramref name="failure"/>, invoked with its token cancelled or not.</summary>
    private static async Task<(int Exit, string Error)> RunAsync(bool stopped, Exception failure)
    {
        var command = new RootCommand("test");
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, () => Task.FromException(failure)));
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        if (stopped)
        {
            await stop.CancelAsync();
        }

        var exit = await command.Parse([]).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = error, ProcessTerminationTimeout = null }, stop.Token);
        return (exit, error.ToString());
    }
}
