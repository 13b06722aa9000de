// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;

namespace ExchangeBus.Node.Tests.Configuration;

/// <summary>node.json's rules for a gRPC backend: a method path for generic calls, a gRPC service for typed ones, or both.</summary>
public sealed class GrpcBackendSettingsTests
{
    private static string[] Problems(BackendSettings backend) => [.. new NodeSettings
    {
        Node = "VN/GOV/000.00.00.H01/ss1",
        Address = "127.0.0.1:5500",
        Services = [new ServiceSettings { Service = "VN/GOV/000.00.00.H01/registry/citizenRegistry", Backend = backend }],
    }.Validate()];

    [TestCase("/test.Backend/Echo", null)]
    [TestCase(null, "samples.citizen.v1.CitizenRegistry")]
    [TestCase("/test.Backend/Echo", "samples.citizen.v1.CitizenRegistry")]
    public void GrpcBackend_WithMethodOrServiceOrBoth_Valid(string? method, string? grpcService) =>
        Assert.That(Problems(new BackendSettings { Kind = BackendKind.Grpc, Address = "http://127.0.0.1:9000", Method = method, GrpcService = grpcService }), Is.Empty);

    [Test]
    public void GrpcBackend_WithNeither_Refused() =>
        Assert.That(Problems(new BackendSettings { Kind = BackendKind.Grpc, Address = "http://127.0.0.1:9000" }).Single(), Does.Contain("method path").And.Contain("gRPC service"));

    [TestCase(BackendKind.Grpc, "/samples.citizen.v1.CitizenRegistry")]
    [TestCase(BackendKind.Grpc, "")]
    [TestCase(BackendKind.Http, "samples.citizen.v1.CitizenRegistry")]
    public void GrpcService_NotAServiceNameOnAGrpcBackend_Refused(BackendKind kind, string grpcService) =>
        Assert.That(Problems(new BackendSettings { Kind = kind, Address = "http://127.0.0.1:9000", Method = "/x.Y/Z", GrpcService = grpcService }).Single(), Does.Contain("GrpcService"));
}
