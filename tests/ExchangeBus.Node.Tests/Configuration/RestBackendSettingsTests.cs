// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;

namespace ExchangeBus.Node.Tests.Configuration;

/// <summary>node.json's rules for a REST backend and for the per-service body cap, checked when the node starts or reloads.</summary>
public sealed class RestBackendSettingsTests
{
    private const string Petstore = "VN/GOV/000.00.00.H01/registry/petstore";

    private static string[] Problems(ServiceSettings service) => [.. new NodeSettings
    {
        Node = "VN/GOV/000.00.00.H01/ss1",
        Address = "127.0.0.1:5500",
        Services = [service],
    }.Validate()];

    private static ServiceSettings Rest(string address = "https://petstore.example/base/", string service = Petstore, int? maxBodyBytes = null) =>
        new() { Service = service, Backend = new BackendSettings { Kind = BackendKind.Rest, Address = address }, MaxBodyBytes = maxBodyBytes };

    [TestCase("https://petstore.example/")]
    [TestCase("http://127.0.0.1:8080/api/v2")]
    public void RestBackend_WithABaseUrl_Valid(string address) => Assert.That(Problems(Rest(address)), Is.Empty);

    [TestCase("https://petstore.example/?key=1", "base URL")]
    [TestCase("https://petstore.example/#top", "base URL")]
    [TestCase("https://user:secret@petstore.example/", "base URL")]
    [TestCase("ftp://petstore.example/", "http:// or https://")]
    public void RestBackend_AddressNotABaseUrl_Refused(string address, string why) =>
        Assert.That(Problems(Rest(address)).Single(), Does.Contain(why));

    [Test]
    public void RestService_WithAVersion_Refused_R1CannotNameIt() =>
        Assert.That(Problems(Rest(service: Petstore + "/v1")).Single(), Does.Contain("no version part"));

    [TestCase(1)]
    [TestCase(NodeLimits.MaxPayloadBytes)]
    [TestCase(NodeLimits.MaxPayloadBytes + 1)]
    [TestCase(NodeLimits.MaxStreamedBodyBytes)]
    public void MaxBodyBytes_OfARestService_UpToAGigabyte_Valid(int max)
    {
        var service = Rest(maxBodyBytes: max);

        Assert.That(Problems(service), Is.Empty);
        Assert.That(service.BodyLimit, Is.EqualTo(max));
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(NodeLimits.MaxStreamedBodyBytes + 1)]
    public void MaxBodyBytes_OfARestService_OutOfRange_Refused(int max) =>
        Assert.That(Problems(Rest(maxBodyBytes: max)).Single(), Does.Contain("MaxBodyBytes must be 1–1073741824 (1 GiB) for a rest backend"));

    [Test]
    public void MaxBodyBytes_OfAnHttpService_OverWhatOneCallCarries_Refused() =>
        Assert.That(Problems(new ServiceSettings
        {
            Service = Petstore,
            Backend = new BackendSettings { Kind = BackendKind.Http, Address = "http://127.0.0.1:9000/call" },
            MaxBodyBytes = NodeLimits.MaxPayloadBytes + 1,
        }).Single(), Does.Contain($"MaxBodyBytes must be 1–{NodeLimits.MaxPayloadBytes} for an http backend"));

    [TestCase(null, NodeLimits.MaxPayloadBytes)]
    [TestCase(NodeLimits.MaxStreamedBodyBytes, NodeLimits.MaxStreamedBodyBytes)]
    public void MaxRestBodyBytes_OfTheClientNode_DefaultsToWhatOneCallCarries(int? max, int limit)
    {
        var settings = new NodeSettings { Node = "VN/GOV/000.00.00.H01/ss1", Address = "127.0.0.1:5500", MaxRestBodyBytes = max };

        Assert.That(settings.Validate(), Is.Empty);
        Assert.That(settings.RestBodyLimit, Is.EqualTo(limit));
    }

    [TestCase(0)]
    [TestCase(NodeLimits.MaxStreamedBodyBytes + 1)]
    public void MaxRestBodyBytes_OutOfRange_Refused(int max) =>
        Assert.That(new NodeSettings { Node = "VN/GOV/000.00.00.H01/ss1", Address = "127.0.0.1:5500", MaxRestBodyBytes = max }.Validate().Single(),
            Does.Contain("MaxRestBodyBytes must be 1–1073741824"));

    [Test]
    public void MaxBodyBytes_Unset_IsTheNodesCallLimit() => Assert.That(Rest().BodyLimit, Is.EqualTo(NodeLimits.MaxPayloadBytes));

    [Test]
    public void MaxBodyBytes_OnAGrpcBackend_Refused() =>
        Assert.That(Problems(new ServiceSettings
        {
            Service = Petstore,
            Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = "http://127.0.0.1:9000", Method = "/x.Y/Z" },
            MaxBodyBytes = 1024,
        }).Single(), Does.Contain("http and rest backends"));

    [Test]
    public void RestBackend_RoundTripsThroughNodeJson_AsKindRest()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("xbus-settings-").FullName, "node.json");
        var settings = new NodeSettings { Node = "VN/GOV/000.00.00.H01/ss1", Address = "127.0.0.1:5500", Services = [Rest(maxBodyBytes: 4096)] };

        settings.Write(path);

        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("\"kind\": \"rest\"").And.Contain("\"maxBodyBytes\": 4096"));
        Assert.That(NodeSettings.Read(path).Services.Single(), Is.EqualTo(settings.Services.Single()));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }
}
