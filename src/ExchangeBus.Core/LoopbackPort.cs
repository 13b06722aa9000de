// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ExchangeBus.Core;

/// <summary>
/// A free loopback port for a listener that must be named before it starts (a node's peer
/// address goes into its registration first): the demo, the benchmark and tests.
/// </summary>
/// <remarks>
/// A port handed out stays this process's until it exits, across processes too: each is
/// reserved by an exclusive lock on a file named for it in the temp folder, held open for the
/// process's life and released by the kernel when the process ends, however it ends. Without
/// that, a server stopped and started again on its port (a registry killed mid-load, then
/// restarted at the address the nodes know) could find the port taken by another process's
/// pick in the seconds it was down, as a concurrent test run did on 2026-12-06.
/// </remarks>
public static class LoopbackPort
{
    // Below Linux's ephemeral range (32768–60999): no outgoing connection is ever given one of
    // these ports, so between the check and the real bind only another listener can take it.
    private const int First = 20_000;
    private const int End = 32_000;

    private static readonly string ReservationFolder = Path.Combine(Path.GetTempPath(), "exchangebus-ports");

    // Never the same port twice in one process: a port handed out but not yet bound still looks
    // free. The value is the port's reservation file, held open until the process exits.
    private static readonly ConcurrentDictionary<int, FileStream?> HandedOut = new();

    /// <summary>
    /// A port in 20000–31999 that could be bound on 127.0.0.1 just now, never one given before by
    /// this process or by another process still running that asked here.
    /// </summary>
    public static int PickFree()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(First, End);
            if (HandedOut.ContainsKey(port) || !TryReserve(port, out var reservation))
            {
                continue;
            }

            if (!HandedOut.TryAdd(port, reservation))
            {
                reservation?.Dispose();
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
                // Taken by a listener that did not ask here: try another (this one stays reserved, unused).
            }
        }

        using var fallback = new TcpListener(IPAddress.Loopback, 0);
        fallback.Start();
        return ((IPEndPoint)fallback.LocalEndpoint).Port;
    }

    /// <summary>
    /// False when another process holds the port's reservation. Where no reservation can be made
    /// at all (an unwritable temp folder), the port is still handed out, reserved in-process only.
    /// </summary>
    private static bool TryReserve(int port, out FileStream? reservation)
    {
        reservation = null;
        try
        {
            Directory.CreateDirectory(ReservationFolder);

            // FileShare.None is an exclusive flock on Unix: refused while another process holds it.
            reservation = new FileStream(Path.Combine(ReservationFolder, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
