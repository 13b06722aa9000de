// SPDX-License-Identifier: Apache-2.0
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace ExchangeBus.Grpc;

/// <summary>
/// Transport settings every bus gRPC server gets (nodes, registry, the bench's plain-copy sink),
/// set for large client streams: a file push is a stream of 1 MiB messages. Found with perf and
/// strace on `xbus bench files` (docs/performance.md, "File sync").
/// </summary>
internal static class ServerTransport
{
    /// <summary>
    /// How much request data a client may send ahead of what the server has read (HTTP/2 flow
    /// control). Kestrel's defaults (768 KiB a stream, 1 MiB a connection) are smaller than one
    /// file chunk: a client streaming chunks sent part of each message, then waited a round trip
    /// for a window update before it could send the rest, on every message. A window of a few
    /// chunks keeps the sender writing while the server handles the message before. The cost is
    /// memory: a server buffers at most the connection window of unread request data per
    /// connection, whatever its number of streams, so still bounded per peer (4 MiB, was 1 MiB).
    /// </summary>
    public const int StreamWindowBytes = 4 * 1024 * 1024;

    public const int ConnectionWindowBytes = 4 * 1024 * 1024;

    public static void ApplyTo(KestrelServerOptions kestrel)
    {
        kestrel.Limits.Http2.InitialStreamWindowSize = StreamWindowBytes;
        kestrel.Limits.Http2.InitialConnectionWindowSize = ConnectionWindowBytes;
    }

    /// <summary>
    /// By default the socket transport first waits for data with a zero-byte receive and only
    /// then takes a buffer and receives: two system calls per 4 KiB block of a large upload
    /// (strace on a recipient node: 76,000 receives for 147 MiB). Receiving straight into a
    /// buffer costs one pooled 4 KiB block held per idle connection.
    /// </summary>
    public static void ApplyTo(SocketTransportOptions sockets) => sockets.WaitForDataBeforeAllocatingBuffer = false;
}
