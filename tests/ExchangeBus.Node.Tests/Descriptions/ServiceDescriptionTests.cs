// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Descriptions;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Samples.Citizen.V1;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace ExchangeBus.Node.Tests.Descriptions;

/// <summary>
/// Service descriptions through two real nodes (docs/design/agency-protocols.md, "Service
/// descriptions"): the provider registers the CitizenRegistry descriptor set and a REST service's
/// OpenAPI document; the client's systems discover them through their own node, with a real
/// gRPC reflection client (what grpcurl speaks) over real sockets.
/// </summary>
[NonParallelizable]
public sealed class ServiceDescriptionTests
{
    private const string CitizenService = BusFixture.ProviderSubsystem + "/citizenRegistry/v1";
    private const string ClosedService = BusFixture.ProviderSubsystem + "/citizenRegistryClosed";
    private const string LicenceService = BusFixture.ProviderSubsystem + "/licences";
    private const string GetServiceDescription = BusFixture.ProviderSubsystem + "/" + ProviderExchange.GetServiceDescriptionService;
    private const string OwnService = "exchangebus.node.v1.LocalGateway";

    private static readonly string CitizenRegistryName = CitizenRegistry.Descriptor.FullName;

    private BusFixture _bus = null!;
    private GrpcChannel _client = null!;
    private GrpcChannel _provider = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(prepared: bus =>
        {
            var paths = bus.ProviderData[0].Paths;
            File.WriteAllBytes(Path.Combine(paths.DataDirectory, "citizen.pb"), ServiceDescriptionFilesTests.CitizenRegistrySet());
            File.WriteAllText(Path.Combine(paths.DataDirectory, "licences.json"), ServiceDescriptionFilesTests.OpenApiJson);
            var settings = NodeSettings.Read(paths.Settings);

            // Nothing listens there: describing a service never calls its backend.
            var grpc = new BackendSettings { Kind = BackendKind.Grpc, Address = $"http://127.0.0.1:{BusFixture.FreePort()}", GrpcService = CitizenRegistryName };
            (settings with
            {
                Services =
                [
                    .. settings.Services,
                    new ServiceSettings { Service = CitizenService, Backend = grpc, Description = "citizen.pb" },
                    new ServiceSettings { Service = ClosedService, Backend = grpc, Description = "citizen.pb" },
                    new ServiceSettings { Service = LicenceService, Backend = new BackendSettings { Kind = BackendKind.Http, Address = "http://127.0.0.1:1/licences" }, Description = "licences.json" },
                ],
                AccessRules =
                [
                    .. settings.AccessRules,
                    new AccessRule { Service = CitizenService, Subject = BusFixture.ClientSubsystem },
                    new AccessRule { Service = LicenceService, Subject = BusFixture.ClientSubsystem },
                ],
            }).Write(paths.Settings);
            return Task.CompletedTask;
        });
        _client = _bus.LocalChannel();
        _provider = _bus.ProviderLocalChannel();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _client.Dispose();
        _provider.Dispose();
        await _bus.DisposeAsync();
    }

    private static Metadata As(string? client, string? service = null)
    {
        var headers = new Metadata();
        if (client is not null)
        {
            headers.Add(TransparentGrpc.ClientHeader, client);
        }

        if (service is not null)
        {
            headers.Add(TransparentGrpc.ServiceHeader, service);
        }

        return headers;
    }

    /// <summary>One reflection stream (v1alpha, grpcurl's first choice), its requests sent, its answers read.</summary>
    private static async Task<List<V1Alpha.ServerReflectionResponse>> ReflectAsync(GrpcChannel channel, Metadata headers, params V1Alpha.ServerReflectionRequest[] requests)
    {
        using var call = new V1Alpha.ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(headers, DateTime.UtcNow.AddSeconds(60));
        foreach (var request in requests)
        {
            await call.RequestStream.WriteAsync(request);
        }

        await call.RequestStream.CompleteAsync();
        var responses = new List<V1Alpha.ServerReflectionResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            responses.Add(response);
        }

        return responses;
    }

    private static async Task<string[]> ListAsync(GrpcChannel channel, Metadata headers) =>
        [.. (await ReflectAsync(channel, headers, new V1Alpha.ServerReflectionRequest { ListServices = "" })).Single().ListServicesResponse.Service.Select(s => s.Name)];

    [Test]
    public async Task Reflection_AllowedClient_ListsTheProvidersGrpcServiceBesideTheNodesOwn()
    {
        var services = await ListAsync(_client, As(BusFixture.ClientSubsystem));

        Assert.That(services, Does.Contain(CitizenRegistryName));
        Assert.That(services, Does.Contain(OwnService));
        Assert.That(services.Count(s => s == CitizenRegistryName), Is.EqualTo(1));
    }

    [Test]
    public async Task Reflection_AllowedClient_DescribesTheServiceAndItsMessages_FromTheProvidersDescriptorSet()
    {
        var responses = await ReflectAsync(_client, As(BusFixture.ClientSubsystem),
            new V1Alpha.ServerReflectionRequest { FileContainingSymbol = CitizenRegistryName },
            new V1Alpha.ServerReflectionRequest { FileContainingSymbol = "samples.citizen.v1.Citizen" });

        foreach (var response in responses)
        {
            Assert.That(response.ErrorResponse, Is.Null, response.ErrorResponse?.ErrorMessage);
            var file = FileDescriptorProto.Parser.ParseFrom(response.FileDescriptorResponse.FileDescriptorProto[0]);
            Assert.That(file.Name, Is.EqualTo(CitizenRegistryReflection.Descriptor.Name));
            Assert.That(file.Service.Single().Method.Select(m => m.Name), Is.EquivalentTo(CitizenRegistry.Descriptor.Methods.Select(m => m.Name)));
            Assert.That(file.MessageType.Select(m => m.Name), Does.Contain("Citizen"));
        }
    }

    [Test]
    public async Task Reflection_V1_ListsTheSame()
    {
        using var call = new V1.ServerReflection.ServerReflectionClient(_client).ServerReflectionInfo(As(BusFixture.ClientSubsystem), DateTime.UtcNow.AddSeconds(60));
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);

        Assert.That(call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name), Does.Contain(CitizenRegistryName));
    }

    [Test]
    public async Task Reflection_ClientNotAllowed_DoesNotSeeTheService()
    {
        // The provider's own subsystem is a client of its node, on no access list of these services.
        var services = await ListAsync(_provider, As(BusFixture.ProviderSubsystem));
        var describe = (await ReflectAsync(_provider, As(BusFixture.ProviderSubsystem), new V1Alpha.ServerReflectionRequest { FileContainingSymbol = CitizenRegistryName })).Single();

        Assert.That(services, Does.Contain(OwnService));
        Assert.That(services, Does.Not.Contain(CitizenRegistryName));
        Assert.That(describe.ErrorResponse.ErrorCode, Is.EqualTo((int)StatusCode.NotFound));
    }

    [Test]
    public async Task Reflection_ServiceWithoutDescription_IsNotListed()
    {
        // The fixture's echo service: allowed for the client, gRPC, no description.
        var services = await ListAsync(_client, As(BusFixture.ClientSubsystem, BusFixture.Service));

        Assert.That(services, Does.Contain(OwnService));
        Assert.That(services, Does.Not.Contain(CitizenRegistryName));
        Assert.That(services, Does.Not.Contain("test.Backend"));
    }

    [Test]
    public async Task Reflection_NamingOneService_ListsOnlyThatOne()
    {
        var services = await ListAsync(_client, As(BusFixture.ClientSubsystem, CitizenService));

        Assert.That(services, Does.Contain(CitizenRegistryName));
    }

    [Test]
    public async Task Reflection_WithoutClientHeader_ListsOnlyTheNodesOwnServices()
    {
        var services = await ListAsync(_client, As(null));

        Assert.That(services, Does.Contain(OwnService));
        Assert.That(services, Does.Not.Contain(CitizenRegistryName));
    }

    [Test]
    public async Task Reflection_ClientNotRegisteredOnTheNode_Refused()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => ListAsync(_client, As(BusFixture.Client + "/nobody")));

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.UnregisteredClient));
    }

    private Task<ServiceDescription> DescribeAsync(string service, string client = BusFixture.ClientSubsystem) =>
        new Contracts.Node.V1.LocalGateway.LocalGatewayClient(_client).GetServiceDescriptionAsync(
            new GetServiceDescriptionRequest { Client = client, Service = service }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;

    [Test]
    public async Task GetServiceDescription_RestService_ReturnsItsOpenApiDocument()
    {
        var description = await DescribeAsync(LicenceService);

        Assert.That(description.Kind, Is.EqualTo(ServiceDescriptionKind.Openapi));
        Assert.That(description.MediaType, Is.EqualTo(ServiceDescriptionFiles.JsonMediaType));
        Assert.That(description.Content.ToStringUtf8(), Is.EqualTo(ServiceDescriptionFilesTests.OpenApiJson));
    }

    [TestCase(ClosedService, NodeErrors.AccessDenied, StatusCode.PermissionDenied)]
    [TestCase(BusFixture.Service, NodeErrors.NoServiceDescription, StatusCode.NotFound)]
    [TestCase(BusFixture.ProviderSubsystem + "/absent", NodeErrors.UnknownService, StatusCode.NotFound)]
    public async Task GetServiceDescription_Refused_WithTheProvidersCode(string service, string code, StatusCode status)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => DescribeAsync(service));

        Assert.That(ex!.ErrorCode, Is.EqualTo(code));
        Assert.That(ex.StatusCode, Is.EqualTo(status));
    }

    [Test]
    public async Task GetServiceDescription_IsASignedLoggedExchange_OnBothNodes()
    {
        // At least this fetch crossed the bus (earlier ones in this fixture may have filled the cache).
        await DescribeAsync(CitizenService);

        foreach (var (node, request, response) in new[]
        {
            (_bus.ClientNode, MessageDirection.ClientRequest, MessageDirection.ClientResponse),
            (_bus.ProviderNode, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse),
        })
        {
            var fetches = Entries(node.Log)
                .Where(e => e.Record.Service == GetServiceDescription && e.Record.Client == BusFixture.ClientSubsystem)
                .Where(e => e.Record.Direction == request && GetServiceDescriptionRequest.Parser.ParseFrom(e.Record.Body!).Service == CitizenService)
                .ToList();
            Assert.That(fetches, Is.Not.Empty);
            var answer = node.Log.FindByMessageId(fetches[0].Record.MessageId).Single(e => e.Record.Direction == response);
            Assert.That(answer.Record.Status, Is.EqualTo(MessageLogRecord.StatusOk));
            Assert.That(MessageHeader.Parser.ParseFrom(answer.Record.Header).Kind, Is.EqualTo(MessageKind.Response));
            Assert.That(ServiceDescription.Parser.ParseFrom(answer.Record.Body!).GrpcService, Is.EqualTo(CitizenRegistryName));
            Assert.That(node.Log.Verify().IsValid, Is.True);
        }
    }

    private static IEnumerable<MessageLogEntry> Entries(SqliteMessageLog log)
    {
        for (var sequence = 1L; sequence <= log.LastSequence(); sequence++)
        {
            if (log.Get(sequence) is { } entry)
            {
                yield return entry;
            }
        }
    }

    [Test]
    public async Task NodeStart_WithAMalformedDescription_RefusedWithItsCode()
    {
        // A node folder as enrolment leaves it (no log yet), whose node.json names a broken descriptor set.
        var folder = Directory.CreateTempSubdirectory("xbus-desc-node-").FullName;
        try
        {
            var source = _bus.ClientData.Paths;
            var paths = new NodePaths(folder);
            File.Copy(source.Anchor, paths.Anchor);
            if (File.Exists(source.GlobalConfigurationCache))
            {
                File.Copy(source.GlobalConfigurationCache, paths.GlobalConfigurationCache);
            }

            Directory.CreateDirectory(paths.Keys);
            foreach (var file in Directory.GetFiles(source.Keys))
            {
                File.Copy(file, Path.Combine(paths.Keys, Path.GetFileName(file)));
            }

            File.WriteAllBytes(Path.Combine(folder, "broken.pb"), [0xff, 0xff, 0xff]);
            (NodeSettings.Read(source.Settings) with
            {
                Services = [new ServiceSettings { Service = BusFixture.ClientSubsystem + "/broken", Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = "http://127.0.0.1:1", GrpcService = CitizenRegistryName }, Description = "broken.pb" }],
            }).Write(paths.Settings);

            var ex = await Assert.ThrowsAsync<NodeConfigurationException>(() => NodeServer.StartAsync(new NodeServerOptions
            {
                DataDirectory = folder, PeerListen = "127.0.0.1:0", Development = true, LocalListen = "127.0.0.1:0", MetricsListen = "127.0.0.1:0",
            }));

            Assert.That(ex!.Code, Is.EqualTo(NodeErrors.DescriptionInvalid));
            Assert.That(ex.Message, Does.Contain("broken.pb"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
