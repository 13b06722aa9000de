// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;

namespace ExchangeBus.Registry.Hosting;

/// <summary>How a registry is started; validated at start by <see cref="RegistryServerOptionsValidator"/>.</summary>
public sealed record RegistryServerOptions
{
    public required string DataDirectory { get; init; }

    /// <summary>gRPC over TLS: configuration, registration, management. "host:port"; port 0 picks one.</summary>
    public string GrpcListen { get; init; } = "127.0.0.1:4400";

    /// <summary>Plain HTTP: RFC 3161 time-stamping at /tsa and RFC 6960 OCSP at /ocsp.</summary>
    public string HttpListen { get; init; } = "127.0.0.1:4401";

    /// <summary>How nodes reach the gRPC listener, if not the bound address (a proxy, a DNS name).</summary>
    public string? PublicGrpcAddress { get; init; }

    public string? PublicHttpAddress { get; init; }

    /// <summary>How often the registry checks whether the configuration needs re-publishing.</summary>
    public TimeSpan RefreshCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>On shutdown (SIGTERM), how long the listeners wait for the calls in flight to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// What one connection may take: handshake, idle, header and body-rate timeouts, calls at
    /// once. The gRPC listener asks for no client certificate (nodes register through it), so
    /// anyone who can connect could otherwise hold a connection open with pings alone.
    /// </summary>
    public ConnectionLimits Limits { get; init; } = new();
}
