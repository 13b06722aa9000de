// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Grpc;

/// <summary>What a handler knows about the call it serves.</summary>
public sealed class ServerCallContext
{
    private readonly HttpContext _httpContext;
    private readonly Func<Task> _writeHeaders;

    internal ServerCallContext(
        HttpContext httpContext,
        string method,
        Metadata requestHeaders,
        DateTimeOffset? deadline,
        CancellationToken cancellationToken,
        Func<Task> writeHeaders)
    {
        _httpContext = httpContext;
        Method = method;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        CancellationToken = cancellationToken;
        _writeHeaders = writeHeaders;
    }

    /// <summary>The full method name, e.g. <c>/grpc.health.v1.Health/Check</c>.</summary>
    public string Method { get; }

    /// <summary>The caller's address, <c>ip:port</c>.</summary>
    public string Peer => $"{_httpContext.Connection.RemoteIpAddress}:{_httpContext.Connection.RemotePort}";

    /// <summary>The certificate the caller presented in the TLS handshake, already chain-validated.</summary>
    public X509Certificate2? ClientCertificate => _httpContext.Connection.ClientCertificate;

    public Metadata RequestHeaders { get; }

    public Metadata ResponseHeaders { get; } = new();

    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The client's deadline, if it sent one.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Cancelled when the client cancels, the connection drops or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The ASP.NET Core context, for what this type does not surface.</summary>
    public HttpContext HttpContext => _httpContext;

    /// <summary>Sends <see cref="ResponseHeaders"/> now rather than with the first message.</summary>
    public Task WriteResponseHeadersAsync() => _writeHeaders();
}
