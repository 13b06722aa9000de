// SPDX-License-Identifier: Apache-2.0
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ExchangeBus.Grpc;

/// <summary>
/// How much request data a bus server lets a client send ahead of what it has read (HTTP/2 flow
/// control). Kestrel's defaults (768 KiB a stream, 1 MiB a connection) are smaller than one
/// 1 MiB file chunk: a client streaming chunks sent part of each message, then waited a round
/// trip for a window update before it could send the rest, on every message. A stream window of
/// a few chunks keeps the sender writing while the server handles the message before.
/// The cost is memory: a server buffers at most the connection window of unread request data
/// per connection (whatever its number of streams), so this is bounded per peer as before,
/// at 4 MiB instead of 1 MiB.
/// </summary>
internal static class Http2Windows
{
    public const int StreamWindowBytes = 4 * 1024 * 1024;

    public const int ConnectionWindowBytes = 4 * 1024 * 1024;

    public static void ApplyTo(KestrelServerOptions kestrel)
    {
        kestrel.Limits.Http2.InitialStreamWindowSize = StreamWindowBytes;
        kestrel.Limits.Http2.InitialConnectionWindowSize = ConnectionWindowBytes;
    }
}
