// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Sockets;

namespace ExchangeBus.Core;

/// <summary>
/// A free loopback port for a listener that must be named before it starts (a node's peer
/// address goes into its registration first): the demo, the benchmark and tests.
/// </summary>
public static class LoopbackPort
{
    // Below Linux's ephemeral range (32768–60999): no outgoing connection is ever given one of
    // these ports, so between the check and the real bind only another listener can take it.
    private const int First = 20_000;
    private const int End = 32_000;

    // Never the same port twice in one process: a port handed out but not yet bound still looks free.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    /// <summary>A port in 20000–31999 that could be bound on 127.0.0.1 just now, never one given before by this process.</summary>
    public static int PickFree()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(First, End);
            if (!HandedOut.TryAdd(port, 0))
            {
                continue;
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        using var fallback = new TcpListener(IPAddress.Loopback, 0);
        fallback.Start();
        return ((IPEndPoint)fallback.LocalEndpoint).Port;
    }
}
