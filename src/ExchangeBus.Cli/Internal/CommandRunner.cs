// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Audit;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Audit;
using Grpc.Core;

namespace ExchangeBus.Cli.Internal;

/// <summary>
/// Runs a command's action and turns the expected failures into one line on stderr,
/// <c>error CODE: message</c>, and exit code 2. Argument errors stay System.CommandLine's (exit 1).
/// </summary>
internal static class CommandRunner
{
    public const int FailureExitCode = 2;

    /// <summary>The command was stopped by SIGTERM or Ctrl+C before it finished.</summary>
    public const string StoppedCode = "Cli.Stopped";

    public static int Run(ParseResult parseResult, Action action) =>
        RunAsync(parseResult, () =>
        {
            action();
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();

    public static Task<int> RunAsync(ParseResult parseResult, Func<Task> action) =>
        RunAsync(parseResult, CancellationToken.None, action);

    /// <summary>
    /// As <see cref="RunAsync(ParseResult, Func{Task})"/> for a command given System.CommandLine's
    /// token, which it cancels on SIGTERM or Ctrl+C. A command cut short that way fails with a
    /// cancellation: a gRPC call in flight ends CANCELLED "Call canceled by the client.", which
    /// read as <c>error Rpc.Cancelled</c> like a fault of the bus, and a cancelled wait (a host
    /// starting) ended the process with exit code 1 and no word at all (System.CommandLine prints
    /// nothing for an OperationCanceledException). Both are said as what they are.
    /// </summary>
    public static async Task<int> RunAsync(ParseResult parseResult, CancellationToken stopping, Func<Task> action)
    {
        var error = parseResult.InvocationConfiguration.Error;
        try
        {
            await action().ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (stopping.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            error.WriteLine($"error {StoppedCode}: Stopped by SIGTERM or Ctrl+C before it finished.");
        }
        catch (PkiException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (RegistryException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (RpcException ex)
        {
            var correlation = ex.CorrelationId is { } id ? $" (correlation id {id})" : string.Empty;
            error.WriteLine($"error {ex.ErrorCode ?? "Rpc." + ex.StatusCode}: {ex.Status.Detail}{correlation}");
        }
        catch (ExchangeBus.Node.NodeConfigurationException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (ExchangeBus.Core.GlobalConf.ConfigurationAnchorException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (ExchangeBus.WebConsole.Accounts.ConsoleAccountException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (CliException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (ArchiveException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (RenewalRefusedException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (ExchangeBus.Core.Storage.StorageException ex)
        {
            error.WriteLine($"error {ex.Code}: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error {PkiErrors.FileIo}: {ex.Message}");
        }

        return FailureExitCode;
    }
}

/// <summary>A command-line usage problem found after parsing (a missing file, a bad combination).</summary>
internal sealed class CliException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
