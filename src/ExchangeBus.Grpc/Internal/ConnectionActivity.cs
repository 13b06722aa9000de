// SPDX-License-Identifier: Apache-2.0
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace ExchangeBus.Grpc.Internal;

/// <summary>
/// Calls in progress on one connection, and when the last one ended. Set on the connection by
/// <see cref="Guard"/>, read by every call the transport serves (HTTP features fall back to the
/// connection's), so the guard can close a connection that carries frames but no calls.
/// </summary>
internal sealed class ConnectionActivity
{
    private int _calls;
    private long _lastActive = Environment.TickCount64;

    private bool IdleFor(TimeSpan span) =>
        Volatile.Read(ref _calls) == 0 && Environment.TickCount64 - Volatile.Read(ref _lastActive) >= (long)span.TotalMilliseconds;

    /// <summary>Runs one call, counted as activity on its connection (if the connection is guarded).</summary>
    public static async Task TrackAsync(HttpContext httpContext, Func<Task> call)
    {
        var activity = httpContext.Features.Get<ConnectionActivity>();
        if (activity is null)
        {
            await call().ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref activity._calls);
        try
        {
            await call().ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref activity._lastActive, Environment.TickCount64);
            Interlocked.Decrement(ref activity._calls);
        }
    }

    /// <summary>
    /// Connection middleware: a connection with no call for <paramref name="idleTimeout"/> is asked
    /// to close (HTTP/2 GOAWAY: calls in progress finish), and aborted if it is still open and still
    /// idle after as long again. Kestrel's keep-alive timeout restarts on every frame, pings included,
    /// so without this a peer could hold a connection for ever by pinging (docs/reliability.md).
    /// Network timeouts are wall-clock, like Kestrel's own.
    /// </summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Guard(TimeSpan idleTimeout) => next => async connection =>
    {
        var activity = new ConnectionActivity();
        connection.Features.Set(activity);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        var watch = WatchAsync(connection, activity, idleTimeout, stop.Token);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    };

    private static async Task WatchAsync(ConnectionContext connection, ConnectionActivity activity, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(idleTimeout.TotalMilliseconds / 4, 50, 1_000));
        var asked = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(period, cancellationToken).ConfigureAwait(false);
            if (!activity.IdleFor(asked ? idleTimeout * 2 : idleTimeout))
            {
                continue;
            }

            if (!asked)
            {
                connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
                asked = true;
            }
            else
            {
                connection.Abort(new ConnectionAbortedException("No call for twice the idle timeout."));
                return;
            }
        }
    }
}
