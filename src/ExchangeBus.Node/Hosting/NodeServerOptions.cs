// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Hosting;

/// <summary>How a node is started; validated at start by <see cref="NodeServerOptionsValidator"/>.</summary>
public sealed record NodeServerOptions
{
    public required string DataDirectory { get; init; }

    /// <summary>Inter-node listener (mutual TLS with the authentication certificate), ip:port.</summary>
    public string PeerListen { get; init; } = "127.0.0.1:5500";

    /// <summary>
    /// Local listener for the agency's systems: plaintext HTTP/2, loopback only, for development
    /// (callers say who they are and are believed). Null turns it off; a production node must.
    /// </summary>
    public string? LocalListen { get; init; } = "127.0.0.1:5600";

    /// <summary>
    /// Local TLS listener for production systems, ip:port: each presents the certificate whose
    /// SHA-256 node.json registers for its subsystem, and may act only as that subsystem.
    /// </summary>
    public string? LocalTlsListen { get; init; }

    /// <summary>How often node.json is checked for changes (applied without a restart).</summary>
    public TimeSpan SettingsPollInterval { get; init; } = NodeSettingsSource.DefaultPollInterval;

    /// <summary>HTTP/1.1 listener for /metrics (Prometheus) and /health/live, /health/ready; gRPC health is on both gRPC listeners.</summary>
    public string MetricsListen { get; init; } = "127.0.0.1:5601";

    /// <summary>Refuse a development trust anchor (docs/design/certificates.md).</summary>
    public bool Production { get; init; }

    public MessageLogOptions MessageLog { get; init; } = new();

    /// <summary>
    /// On shutdown (SIGTERM), how long each listener waits for the calls in flight to finish
    /// before it drops them; the message log is flushed after that.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>File sync's limits and retry policy.</summary>
    public FileSyncOptions Files { get; init; } = new();

    /// <summary>
    /// What the inter-node listener allows one connection: handshake, idle and header timeouts,
    /// the slowest request body, calls at once (docs/reliability.md, "Hostile peers").
    /// </summary>
    public ConnectionLimits PeerLimits { get; init; } = new();
}
