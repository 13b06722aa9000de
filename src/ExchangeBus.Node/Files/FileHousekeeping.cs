// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Files;

/// <summary>
/// The file store's housekeeping (<see cref="FileReceiver.SweepStaleParts"/>): once before the
/// node takes calls, so what a crash left is gone first, then every
/// <see cref="FileSyncOptions.StalePartSweepInterval"/>.
/// </summary>
public sealed class FileHousekeeping(FileReceiver receiver, FileSync files, TimeProvider time) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        receiver.SweepStaleParts();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(files.Options.StalePartSweepInterval, time, stoppingToken).ConfigureAwait(false);
                receiver.SweepStaleParts();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
