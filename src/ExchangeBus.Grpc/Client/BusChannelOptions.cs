// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Tls;

namespace ExchangeBus.Grpc;

/// <summary>How a bus client reaches one server: whom it trusts, who it is, and its limits.</summary>
public sealed record BusChannelOptions
{
    /// <summary>The gRPC default (4 MiB) for either direction when a caller sets no limit.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>Roots the server's certificate must chain to. Required for https addresses.</summary>
    public CertificateTrust? ServerTrust { get; init; }

    /// <summary>The certificate (with private key) this client authenticates with, for mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>A further check on a chain-valid server certificate, e.g. its hash is the one configured.</summary>
    public Func<X509Certificate2, bool>? ServerCertificateCheck { get; init; }

    public int MaxReceiveMessageSize { get; init; } = DefaultMaxMessageSize;

    public int MaxSendMessageSize { get; init; } = DefaultMaxMessageSize;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Logs the channel's own events (connection and call diagnostics of Grpc.Net.Client).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
