// SPDX-License-Identifier: Apache-2.0
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ExchangeBus.Grpc;

/// <summary>
/// What a bus listener allows one connection, so that a peer that connects and then dawdles
/// (drips its request a byte at a time, never sends a whole frame, never ends a stream) is cut
/// off instead of holding a connection and its buffers forever (docs/reliability.md). Kestrel
/// has defaults for most of these; the bus sets them explicitly, tighter where Kestrel's are
/// meant for browsers, and the tests set them short.
/// </summary>
public sealed record ConnectionLimits
{
    /// <summary>The TLS handshake must finish within this.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><see cref="HandshakeTimeout"/> as the settings file gives it (docs/deploy.md).</summary>
    public double HandshakeTimeoutSeconds { get => HandshakeTimeout.TotalSeconds; init => HandshakeTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>
    /// A connection with no call in progress is closed after this (Kestrel: 130 s). It is also
    /// what ends a connection whose first frame never finishes arriving: over HTTP/2, bytes of a
    /// partial frame do not restart this clock, and <see cref="RequestHeadersTimeout"/> only starts
    /// once a whole HEADERS frame is in. Peers' channels reconnect after the GOAWAY on their own.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public double KeepAliveTimeoutSeconds { get => KeepAliveTimeout.TotalSeconds; init => KeepAliveTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>
    /// A connection with no call in progress for this long is asked to close (GOAWAY), and aborted
    /// if still idle after as long again, however busy the peer keeps it with frames that are not
    /// calls: Kestrel's keep-alive timeout restarts on every frame, pings included.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public double IdleTimeoutSeconds { get => IdleTimeout.TotalSeconds; init => IdleTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>A request's headers must have arrived within this (Kestrel: 30 s).</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public double RequestHeadersTimeoutSeconds { get => RequestHeadersTimeout.TotalSeconds; init => RequestHeadersTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>
    /// Below this many bytes a second, after <see cref="MinRequestBodyGracePeriod"/>, a request body
    /// is too slow and the connection is closed. Unary and server-streaming calls only: the
    /// transport lifts it for streams a client may keep open and idle.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; init; } = 240;

    public TimeSpan MinRequestBodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    public double MinRequestBodyGraceSeconds { get => MinRequestBodyGracePeriod.TotalSeconds; init => MinRequestBodyGracePeriod = DurationSetting.FromSeconds(value); }

    /// <summary>Calls one connection may have open at once.</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>
    /// Every problem with these limits, each named as <paramref name="section"/>.key of the
    /// settings file (docs/deploy.md).
    /// </summary>
    public IReadOnlyList<string> Validate(string section)
    {
        var problems = new List<string>();
        DurationSetting.CheckSeconds(problems, $"{section}.handshakeTimeoutSeconds", HandshakeTimeout, 1, 300);
        DurationSetting.CheckSeconds(problems, $"{section}.keepAliveTimeoutSeconds", KeepAliveTimeout, 1, 3600);
        DurationSetting.CheckSeconds(problems, $"{section}.idleTimeoutSeconds", IdleTimeout, 1, 3600);
        DurationSetting.CheckSeconds(problems, $"{section}.requestHeadersTimeoutSeconds", RequestHeadersTimeout, 1, 300);

        // Kestrel checks a body's rate once a second, so a grace period must be longer than that.
        DurationSetting.CheckSeconds(problems, $"{section}.minRequestBodyGraceSeconds", MinRequestBodyGracePeriod, 2, 300);
        if (double.IsNaN(MinRequestBodyBytesPerSecond) || MinRequestBodyBytesPerSecond is < 1 or > 1_000_000_000)
        {
            problems.Add($"{section}.minRequestBodyBytesPerSecond must be between 1 and 1000000000");
        }

        if (MaxStreamsPerConnection is < 1 or > 10_000)
        {
            problems.Add($"{section}.maxStreamsPerConnection must be between 1 and 10000");
        }

        return problems;
    }

    /// <summary>Puts the server-wide limits on Kestrel; the handshake timeout goes with the TLS options.</summary>
    public void ApplyTo(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Limits.KeepAliveTimeout = KeepAliveTimeout;
        kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBodyBytesPerSecond, MinRequestBodyGracePeriod);
        kestrel.Limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
    }
}
