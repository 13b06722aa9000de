// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Descriptions;
using ExchangeBus.Samples.Citizen.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Tests.Descriptions;

/// <summary>node.json's <c>Description</c>: read and checked with node.json, refused with one stable code.</summary>
public sealed class ServiceDescriptionFilesTests
{
    private const string Service = "VN/GOV/000.00.00.H01/registry/citizenRegistry";
    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-desc-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    /// <summary>The sample's descriptor set, as the tests and docs make it: from the generated C# descriptor.</summary>
    internal static byte[] CitizenRegistrySet() => DescriptorSets.Of(CitizenRegistryReflection.Descriptor).ToByteArray();

    private static readonly BackendSettings Grpc = new() { Kind = BackendKind.Grpc, Address = "http://127.0.0.1:9000", GrpcService = CitizenRegistry.Descriptor.FullName };
    private static readonly BackendSettings Http = new() { Kind = BackendKind.Http, Address = "http://127.0.0.1:9000/licences" };

    private string Write(string name, byte[] content)
    {
        File.WriteAllBytes(Path.Combine(_folder, name), content);
        return name;
    }

    private string Write(string name, string content) => Write(name, System.Text.Encoding.UTF8.GetBytes(content));

    private NodeSettings Read(BackendSettings backend, string description)
    {
        var path = Path.Combine(_folder, "node.json");
        new NodeSettings
        {
            Node = "VN/GOV/000.00.00.H01/ss1",
            Address = "127.0.0.1:5500",
            Services = [new ServiceSettings { Service = Service, Backend = backend, Description = description }],
        }.Write(path);
        return NodeSettings.Read(path);
    }

    private NodeConfigurationException Refused(BackendSettings backend, string description) =>
        Assert.Throws<NodeConfigurationException>(() => Read(backend, description))!;

    [Test]
    public void DescriptorSet_WithTheBackendsGrpcService_IsLoadedByteForByte()
    {
        var set = CitizenRegistrySet();
        var description = Read(Grpc, Write("citizen.pb", set)).Descriptions[Service];

        Assert.That(description.Kind, Is.EqualTo(ServiceDescriptionKind.ProtobufDescriptorSet));
        Assert.That(description.GrpcService, Is.EqualTo("samples.citizen.v1.CitizenRegistry"));
        Assert.That(description.Content.ToByteArray(), Is.EqualTo(set));
        var methods = DescriptorSets.Build(description.Content).SelectMany(f => f.Services).Single(s => s.FullName == description.GrpcService).Methods.Select(m => m.Name);
        Assert.That(methods, Is.EquivalentTo(CitizenRegistry.Descriptor.Methods.Select(m => m.Name)), "every method of the sample .proto, streaming ones too");
    }

    [Test]
    public void DescriptorSet_WithoutTheBackendsGrpcService_Refused()
    {
        var ex = Refused(Grpc, Write("timestamp.pb", DescriptorSets.Of(Timestamp.Descriptor.File).ToByteArray()));

        Assert.That(ex.Code, Is.EqualTo(NodeErrors.DescriptionInvalid));
        Assert.That(ex.Message, Does.Contain("without the gRPC service samples.citizen.v1.CitizenRegistry"));
    }

    [Test]
    public void DescriptorSet_MissingAnImport_Refused()
    {
        // google/protobuf/api.proto imports others (which come first); the set loses the first.
        var set = DescriptorSets.Of(ApiReflection.Descriptor);
        Assert.That(set.File[^1].Name, Is.EqualTo("google/protobuf/api.proto"));
        Assert.That(set.File, Has.Count.GreaterThan(1));
        set.File.RemoveAt(0);
        var ex = Refused(Grpc, Write("partial.pb", set.ToByteArray()));

        Assert.That(ex.Code, Is.EqualTo(NodeErrors.DescriptionInvalid));
        Assert.That(ex.Message, Does.Contain("do not build"));
    }

    [Test]
    public void DescriptorSet_NotProtobuf_Refused()
    {
        var ex = Refused(Grpc, Write("garbage.pb", [0xff, 0xff, 0xff, 0xff]));

        Assert.That(ex.Code, Is.EqualTo(NodeErrors.DescriptionInvalid));
        Assert.That(ex.Message, Does.Contain("not a protobuf FileDescriptorSet"));
    }

    [Test]
    public void Description_Missing_Refused()
    {
        var ex = Refused(Grpc, "absent.pb");

        Assert.That(ex.Code, Is.EqualTo(NodeErrors.DescriptionInvalid));
        Assert.That(ex.Message, Does.Contain("does not exist"));
    }

    internal const string OpenApiJson = """
        {"openapi": "3.0.3", "info": {"title": "Licences", "version": "1"},
         "paths": {"/licences/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
           "responses": {"200": {"description": "The licence"}}}}}}
        """;

    [Test]
    public void OpenApi3_Json_IsLoaded()
    {
        var description = Read(Http, Write("licences.json", OpenApiJson)).Descriptions[Service];

        Assert.That(description.Kind, Is.EqualTo(ServiceDescriptionKind.Openapi));
        Assert.That(description.MediaType, Is.EqualTo(ServiceDescriptionFiles.JsonMediaType));
        Assert.That(description.Content.ToStringUtf8(), Is.EqualTo(OpenApiJson));
    }

    [Test]
    public void OpenApi31_Yaml_IsLoaded()
    {
        const string yaml = """
            openapi: 3.1.0
            info:
              title: Licences
              version: "1"
            paths:
              /licences:
                get:
                  responses:
                    "200":
                      description: All licences
            """;

        var description = Read(Http, Write("licences.yaml", yaml)).Descriptions[Service];

        Assert.That(description.MediaType, Is.EqualTo(ServiceDescriptionFiles.YamlMediaType));
    }

    [TestCase("""{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}""", "not an OpenAPI 3 document")]
    [TestCase("just: [some, yaml", "not an OpenAPI 3 document")]
    [TestCase("""{"title": "no version field"}""", "not an OpenAPI 3 document")]
    public void OpenApi_NotVersion3_Refused(string content, string why)
    {
        var ex = Refused(Http, Write("licences.txt", content));

        Assert.That(ex.Code, Is.EqualTo(NodeErrors.DescriptionInvalid));
        Assert.That(ex.Message, Does.Contain(why));
    }
}
