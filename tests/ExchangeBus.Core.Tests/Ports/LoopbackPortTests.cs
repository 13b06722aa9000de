// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ExchangeBus.Core.Tests.Ports;

public sealed class LoopbackPortTests
{
    [Test]
    public void PortsHandedOut_AreDistinct_InTheRange_AndBindable()
    {
        var ports = Enumerable.Range(0, 50).Select(_ => LoopbackPort.PickFree()).ToList();

        Assert.That(ports, Is.Unique);
        Assert.That(ports, Is.All.InRange(20_000, 31_999));
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        Assert.DoesNotThrow(listener.Start);
    }

    [Test]
    public void PortHandedOut_IsReservedAgainstOtherProcesses_UntilThisOneExits()
    {
        var port = LoopbackPort.PickFree();
        var lockFile = Path.Combine(Path.GetTempPath(), "exchangebus-ports", $"{port}.lock");

        // flock(1) takes the same kind of lock another ExchangeBus process's pick would try for.
        Assert.That(Flock(lockFile), Is.EqualTo(1), "another process may not take the reservation");
        Assert.That(Flock(Path.Combine(Path.GetDirectoryName(lockFile)!, "not-a-port-handed-out.lock")), Is.Zero, "the same lock on a file nobody holds");
    }

    private static int Flock(string file)
    {
        var info = new ProcessStartInfo("flock") { ArgumentList = { "--nonblock", "--conflict-exit-code", "1", file, "true" }, UseShellExecute = false };
        using var process = Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
