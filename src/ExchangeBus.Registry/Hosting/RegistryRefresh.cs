// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// Re-publishes the global configuration when it is due (<see cref="RegistryStore.RefreshConfigurationIfDue"/>),
/// checked every <see cref="RegistryServerOptions.RefreshCheckInterval"/> once the registry is
/// serving (its public addresses, which the configuration names, are known only then); on the
/// same tick, marks registrations left undecided too long expired (<see cref="RegistryStore.ExpireRegistrations"/>).
/// </summary>
internal sealed class RegistryRefresh(
    RegistryStore store, IOptions<RegistryServerOptions> options, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<RegistryServer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using (var started = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStarted, stoppingToken))
            {
                await Task.Delay(Timeout.Infinite, started.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            using var timer = new PeriodicTimer(options.Value.RefreshCheckInterval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (store.RefreshConfigurationIfDue() is { } version)
                    {
                        RegistryLog.Published(logger, version);
                    }
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
                {
                    // The next tick tries again; nodes keep the version they have until it expires.
                    RegistryLog.RefreshFailed(logger, ex);
                }

                try
                {
                    if (store.ExpireRegistrations() is > 0 and var expired)
                    {
                        RegistryLog.RegistrationsExpired(logger, expired);
                    }
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
                {
                    // Harmless to retry: a pending registration past its age already counts as expired.
                    RegistryLog.ExpiryFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
