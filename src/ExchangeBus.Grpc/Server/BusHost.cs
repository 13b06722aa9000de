// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Grpc;

/// <summary>How the bus's servers create and stop their ASP.NET Core host.</summary>
public static class BusHost
{
    /// <summary>
    /// The host's content root is the program's own folder, and its appsettings files (there are
    /// none; settings come from <c>xbus</c>'s own sources) are not watched. The defaults would put
    /// a recursive file watcher on the working directory, which is often the folder that holds the
    /// node's data: every message-log write would then wake the watcher.
    /// </summary>
    public static WebApplicationOptions Options() => new()
    {
        ContentRootPath = AppContext.BaseDirectory,
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
    };

    /// <summary>Stops the host (calls in flight get the shutdown timeout) and disposes it, even when stopping fails.</summary>
    public static async Task StopAsync(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
