// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Internal;

internal static class TaskExtensions
{
    /// <summary>Runs a task nobody awaits, observing its exception so it is never unobserved.</summary>
    public static void Forget(this Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
