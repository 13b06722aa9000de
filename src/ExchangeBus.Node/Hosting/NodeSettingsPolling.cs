// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// Starts node.json polling with the host (<see cref="NodeServerOptions.SettingsPollInterval"/>);
/// the source stops when the container disposes it.
/// </summary>
internal sealed class NodeSettingsPolling(NodeSettingsSource settings, IOptions<NodeServerOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        settings.Start(options.Value.SettingsPollInterval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
