// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Grpc;

/// <summary>How the bus's servers create their ASP.NET Core host.</summary>
public static class BusHostOptions
{
    /// <summary>
    /// The host's content root is the program's own folder, and its appsettings files (there are
    /// none; settings come from <c>xbus</c>'s own sources) are not watched. The defaults would put
    /// a recursive file watcher on the working directory, which is often the folder that holds the
    /// node's data: every message-log write would then wake the watcher.
    /// </summary>
    public static WebApplicationOptions Create() => new()
    {
        ContentRootPath = AppContext.BaseDirectory,
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
    };
}
