// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.WebConsole.Hosting;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// A node's host settings. <c>xbus node serve</c> binds them from its settings file, <c>XBUS_</c>
/// environment variables and flags (docs/deploy.md, "Settings"); the keys are the property names,
/// except where an alias (a companion property, some in a named unit) gives the documented key.
/// <see cref="NodeServerOptionsValidator"/> checks them at start.
/// </summary>
public sealed record NodeServerOptions
{
    public required string DataDirectory { get; init; }

    /// <summary><see cref="DataDirectory"/> under its settings key, <c>data</c>.</summary>
    // An alias property, not [ConfigurationKeyName]: the binder's ErrorOnUnknownConfiguration
    // checks keys against the properties' own names and would refuse the attribute's name.
    public string Data { get => DataDirectory; init => DataDirectory = value; }

    /// <summary>Inter-node listener (mutual TLS with the authentication certificate), ip:port.</summary>
    public string PeerListen { get; init; } = "127.0.0.1:5500";

    /// <summary>Where <c>xbus node serve --development</c> puts the plaintext local listener unless told otherwise.</summary>
    public const string DevelopmentLocalListen = "127.0.0.1:5600";

    /// <summary>
    /// Local listener for the agency's systems: plaintext HTTP/2, loopback only, for development
    /// (callers say who they are and are believed). Only with <see cref="Development"/>; off (null) by default.
    /// </summary>
    public string? LocalListen { get; init; }

    /// <summary>
    /// Local TLS listener for production systems, ip:port: each presents the certificate whose
    /// SHA-256 node.json registers for its subsystem, and may act only as that subsystem.
    /// </summary>
    public string? LocalTlsListen { get; init; }

    /// <summary>How often node.json is checked for changes (applied without a restart).</summary>
    public TimeSpan SettingsPollInterval { get; init; } = NodeSettingsSource.DefaultPollInterval;

    /// <summary><see cref="SettingsPollInterval"/> as the settings file gives it.</summary>
    public double SettingsPollSeconds { get => SettingsPollInterval.TotalSeconds; init => SettingsPollInterval = DurationSetting.FromSeconds(value); }

    /// <summary>HTTP/1.1 listener for /metrics (Prometheus) and /health/live, /health/ready; gRPC health is on both gRPC listeners.</summary>
    public string MetricsListen { get; init; } = "127.0.0.1:5601";

    /// <summary>
    /// The development switch: allows the plaintext <see cref="LocalListen"/>, where any local
    /// process may claim any subsystem. Without it a node serves its systems over TLS only.
    /// </summary>
    public bool Development { get; init; }

    /// <summary>
    /// Stricter than the default: also refuse a development trust anchor (docs/design/certificates.md).
    /// Cannot be combined with <see cref="Development"/>.
    /// </summary>
    public bool Production { get; init; }

    public MessageLogOptions MessageLog { get; init; } = new();

    /// <summary>
    /// On shutdown (SIGTERM), how long each listener waits for the calls in flight to finish
    /// before it drops them; the message log is flushed after that.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><see cref="ShutdownTimeout"/> as the settings file gives it.</summary>
    public double ShutdownTimeoutSeconds { get => ShutdownTimeout.TotalSeconds; init => ShutdownTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>File sync's limits and retry policy.</summary>
    public FileSyncOptions Files { get; init; } = new();

    /// <summary>
    /// What the inter-node listener allows one connection: handshake, idle and header timeouts,
    /// the slowest request body, calls at once (docs/reliability.md, "Hostile peers").
    /// </summary>
    public ConnectionLimits PeerLimits { get; init; } = new();

    /// <summary>The operators' and auditors' web console (docs/node.md, "Console"): off unless <c>console.listen</c> is set.</summary>
    public ConsoleOptions Console { get; init; } = new();
}
