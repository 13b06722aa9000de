// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;

namespace ExchangeBus.Node.Tests.Configuration;

/// <summary>node.json's per-service MaxMessageBytes: 1 to the node's payload limit, which is also its default.</summary>
public sealed class MaxMessageBytesSettingsTests
{
    private static ServiceSettings Service(int? maxMessageBytes)
    {
        var service = new ServiceSettings
        {
            Service = "VN/GOV/000.00.00.H01/registry/citizenRegistry",
            Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = "http://127.0.0.1:9000", GrpcService = "samples.citizen.v1.CitizenRegistry" },
        };
        return maxMessageBytes is { } max ? service with { MaxMessageBytes = max } : service;
    }

    private static string[] Problems(ServiceSettings service) => [.. new NodeSettings
    {
        Node = "VN/GOV/000.00.00.H01/ss1",
        Address = "127.0.0.1:5500",
        Services = [service],
    }.Validate()];

    [Test]
    public void Unset_DefaultsToTheNodesPayloadLimit()
    {
        Assert.That(Service(null).MaxMessageBytes, Is.EqualTo(NodeLimits.MaxPayloadBytes));
        Assert.That(Problems(Service(null)), Is.Empty);
    }

    [TestCase(1)]
    [TestCase(65_536)]
    [TestCase(NodeLimits.MaxPayloadBytes)]
    public void InRange_Valid(int max) => Assert.That(Problems(Service(max)), Is.Empty);

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(NodeLimits.MaxPayloadBytes + 1)]
    public void OutOfRange_Refused(int max) => Assert.That(Problems(Service(max)).Single(), Does.Contain("MaxMessageBytes"));
}
