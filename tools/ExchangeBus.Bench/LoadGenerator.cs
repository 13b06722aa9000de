// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using ExchangeBus.Grpc;
using Grpc.Core;

namespace ExchangeBus.Bench;

/// <summary>One thing under load: a call that answers true when the reply is the right one.</summary>
internal sealed record BenchTarget(string Name, Func<CancellationToken, Task<bool>> Call);

/// <summary>What one phase measured against one target.</summary>
internal sealed record PhaseResult(string Target, long Calls, long Errors, double Seconds, double PerSecond, double P50Ms, double P99Ms, double MaxMs, string? FirstError)
{
    /// <summary>CPU time the target's own processes spent per answered call (not the load generator's).</summary>
    public double CpuMsPerCall { get; init; } = double.NaN;

    /// <summary>CPU time the bench's own process (load generator, backend, registry) spent per answered call.</summary>
    public double HarnessCpuMsPerCall { get; init; } = double.NaN;
}

/// <summary>
/// Drives a target in the bench's own process. Every latency is kept and sorted (tens of
/// thousands of longs), so percentiles are exact, not bucketed.
/// </summary>
internal static class LoadGenerator
{
    /// <summary>No single call may hang a phase.</summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(30);

    /// <summary><paramref name="concurrency"/> callers, each starting its next call when the last one answers.</summary>
    public static async Task<PhaseResult> ClosedLoopAsync(BenchTarget target, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var recorder = new Recorder();
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var callers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            // Off the starting thread at once, so the callers start together.
            await Task.Yield();
            while (Stopwatch.GetTimestamp() < end && !cancellationToken.IsCancellationRequested)
            {
                await recorder.TimeAsync(target, Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
            }
        }).ToArray();
        await Task.WhenAll(callers).ConfigureAwait(false);
        return recorder.Result(target.Name, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Calls started on a fixed schedule whatever the answers do (an open loop). Latency counts
    /// from when a call was due, not when it left, so a stall shows in the figures instead of
    /// quietly lowering the rate (coordinated omission).
    /// </summary>
    public static async Task<PhaseResult> OpenLoopAsync(BenchTarget target, int ratePerSecond, TimeSpan duration, CancellationToken cancellationToken)
    {
        var recorder = new Recorder();
        var total = (long)(ratePerSecond * duration.TotalSeconds);
        var interval = (double)Stopwatch.Frequency / ratePerSecond;
        var calls = new List<Task>((int)Math.Min(total, int.MaxValue));
        var started = Stopwatch.GetTimestamp();
        for (long i = 0; i < total && !cancellationToken.IsCancellationRequested;)
        {
            var now = Stopwatch.GetTimestamp();
            for (var due = started + (long)(i * interval); due <= now && i < total; due = started + (long)(i * interval))
            {
                calls.Add(recorder.TimeAsync(target, due, cancellationToken));
                i++;
            }

            // A timer tick (about a millisecond) between batches; spinning would take a core
            // from the processes under test on a small machine.
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
        return recorder.Result(target.Name, Stopwatch.GetElapsedTime(started));
    }

    /// <summary><paramref name="rounds"/> times, <paramref name="inFlight"/> calls started at once and all awaited.</summary>
    public static async Task<PhaseResult> BurstsAsync(BenchTarget target, int inFlight, int rounds, CancellationToken cancellationToken)
    {
        var recorder = new Recorder();
        var started = Stopwatch.GetTimestamp();
        for (var round = 0; round < rounds && !cancellationToken.IsCancellationRequested; round++)
        {
            var now = Stopwatch.GetTimestamp();
            var calls = new Task[inFlight];
            for (var i = 0; i < inFlight; i++)
            {
                calls[i] = recorder.TimeAsync(target, now, cancellationToken);
            }

            await Task.WhenAll(calls).ConfigureAwait(false);
        }

        return recorder.Result(target.Name, Stopwatch.GetElapsedTime(started));
    }

    private sealed class Recorder
    {
        private readonly Lock _gate = new();
        private readonly List<long> _ticks = new(1 << 16);
        private long _errorCount;
        private string? _firstError;

        /// <summary>Makes one call and records how long it took from <paramref name="from"/>; never throws.</summary>
        public async Task TimeAsync(BenchTarget target, long from, CancellationToken cancellationToken)
        {
            string? error = null;
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(CallDeadline);
                if (!await target.Call(deadline.Token).ConfigureAwait(false))
                {
                    error = "WrongAnswer";
                }
            }
            catch (RpcException ex)
            {
                error = $"{ex.ErrorCode ?? ex.StatusCode.ToString()}: {ex.Status.Detail}";
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
            {
                error = $"{ex.GetType().Name}: {ex.Message}";
            }

            var elapsed = Stopwatch.GetTimestamp() - from;
            if (error is not null)
            {
                Interlocked.Increment(ref _errorCount);
                Interlocked.CompareExchange(ref _firstError, error, null);
                return;
            }

            lock (_gate)
            {
                _ticks.Add(elapsed);
            }
        }

        public PhaseResult Result(string target, TimeSpan elapsed)
        {
            long[] sorted;
            lock (_gate)
            {
                sorted = [.. _ticks];
            }

            Array.Sort(sorted);
            var errors = Interlocked.Read(ref _errorCount);
            return new PhaseResult(
                target,
                sorted.Length + errors,
                errors,
                elapsed.TotalSeconds,
                sorted.Length / elapsed.TotalSeconds,
                Percentile(sorted, 0.50),
                Percentile(sorted, 0.99),
                sorted.Length == 0 ? double.NaN : Milliseconds(sorted[^1]),
                _firstError);
        }

        /// <summary>Nearest rank: the smallest value with at least that share of the sample at or below it.</summary>
        private static double Percentile(long[] sorted, double share) =>
            sorted.Length == 0 ? double.NaN : Milliseconds(sorted[Math.Max(0, (int)Math.Ceiling(share * sorted.Length) - 1)]);

        private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
    }
}
