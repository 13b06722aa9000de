// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Rest;

namespace ExchangeBus.Node.Tests.Internal;

/// <summary>
/// The one set of transport headers both paths drop, and each path's own extras: REST
/// (<see cref="RestHeaders.IsForwardable"/>, PR-REST 4.3) and typed gRPC (<see cref="GrpcMetadata.Crosses"/>).
/// </summary>
public sealed class TransportHeadersTests
{
    // Both paths.
    [TestCase("Connection", false, false)]
    [TestCase("Keep-Alive", false, false)]
    [TestCase("TE", false, false)]
    [TestCase("Transfer-Encoding", false, false)]
    [TestCase("Upgrade", false, false)]
    [TestCase("Host", false, false)]
    [TestCase("User-Agent", false, false)]
    [TestCase("Server", false, false)]
    [TestCase("Content-Length", false, false)]
    [TestCase("X-Road-Client", false, false)]
    [TestCase("Proxy-Authenticate", false, false)]
    [TestCase("Proxy-Authorization", false, false)]
    [TestCase("Trailer", false, false)]
    [TestCase("Expect", false, false)]

    // gRPC only.
    [TestCase("Proxy-Connection", true, false)]
    [TestCase("Content-Type", true, false)]
    [TestCase("Content-Encoding", true, false)]
    [TestCase("Accept-Encoding", true, false)]
    [TestCase("Date", true, false)]
    [TestCase("Authorization", true, false)]
    [TestCase("Cookie", true, false)]
    [TestCase("Set-Cookie", true, false)]

    // Neither.
    [TestCase("Accept", true, true)]
    [TestCase("X-Trace", true, true)]
    public void EachPathDropsTheSharedSetAndItsOwn(string name, bool restForwards, bool grpcCrosses)
    {
        Assert.That(RestHeaders.IsForwardable(name), Is.EqualTo(restForwards), "REST");
        Assert.That(RestHeaders.IsForwardable(name.ToLowerInvariant()), Is.EqualTo(restForwards), "REST, lower case");
        Assert.That(GrpcMetadata.Crosses(name.ToLowerInvariant()), Is.EqualTo(grpcCrosses), "gRPC");
    }
}
