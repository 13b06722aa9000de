// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Tls;

namespace ExchangeBus.Grpc;

public sealed record GrpcChannelOptions
{
    /// <summary>Roots the server's certificate must chain to. Required for https addresses.</summary>
    public CertificateTrust? ServerTrust { get; init; }

    /// <summary>The certificate (with private key) this client authenticates with, for mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>A further check on a chain-valid server certificate, e.g. its hash is the one configured.</summary>
    public Func<X509Certificate2, bool>? ServerCertificateCheck { get; init; }

    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.DefaultMaxMessageSize;

    public int MaxSendMessageSize { get; init; } = GrpcProtocol.DefaultMaxMessageSize;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The user-agent sent with every call.</summary>
    public string UserAgent { get; init; } = "exchangebus-grpc/1.0";
}

/// <summary>Per-call settings.</summary>
public readonly record struct CallOptions(
    Metadata? Headers = null,
    DateTimeOffset? Deadline = null,
    CancellationToken CancellationToken = default);
