// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Samples.Citizen.V1;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// Transparent gRPC (docs/design/agency-protocols.md): the sample CitizenRegistry stub, pointed at
/// the client's node with the two x-road headers, reaches a CitizenRegistry backend behind the
/// provider's node over real sockets and mutual TLS between the nodes; answers, the backend's
/// errors and the bus's refusals come back.
/// </summary>
[NonParallelizable]
public sealed partial class TransparentGrpcTests
{
    private const string CitizenService = BusFixture.ProviderSubsystem + "/citizenRegistry/v1";
    private const string ClosedService = BusFixture.ProviderSubsystem + "/citizenRegistryClosed";
    private const string MetadataCitizen = "metadata";

    /// <summary>A binary header's value: bytes that are not text (a zero, a comma, 0xFF).</summary>
    private static readonly byte[] CallerBytes = [0, 1, (byte)',', 0xFE, 0xFF];

    /// <summary>The same backend as a service the provider registered no description for.</summary>
    private const string UndescribedService = BusFixture.ProviderSubsystem + "/citizenRegistryUndescribed";

    private GrpcBackend _backend = null!;
    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _backend = await GrpcBackend.StartAsync<CitizenRegistryBackend>();
        var address = _backend.Address;
        _bus = await BusFixture.StartAsync(prepared: bus =>
        {
            var paths = bus.ProviderData[0].Paths;
            var settings = NodeSettings.Read(paths.Settings);
            var backend = new BackendSettings { Kind = BackendKind.Grpc, Address = address, GrpcService = CitizenRegistry.Descriptor.FullName, TimeoutMilliseconds = 60_000 };
            File.WriteAllBytes(Path.Combine(paths.DataDirectory, "citizen.pb"), Descriptions.ServiceDescriptionFilesTests.CitizenRegistrySet());
            (settings with
            {
                Services =
                [
                    .. settings.Services,
                    new ServiceSettings { Service = CitizenService, Backend = backend, Description = "citizen.pb" },
                    new ServiceSettings { Service = UndescribedService, Backend = backend },
                    new ServiceSettings { Service = ClosedService, Backend = backend },
                    new ServiceSettings { Service = SmallService, Backend = backend, MaxMessageBytes = SmallLimit },
                ],
                AccessRules =
                [
                    .. settings.AccessRules,
                    new AccessRule { Service = CitizenService, Subject = BusFixture.ClientSubsystem },
                    new AccessRule { Service = UndescribedService, Subject = BusFixture.ClientSubsystem },
                    new AccessRule { Service = SmallService, Subject = BusFixture.ClientSubsystem },
                ],
            }).Write(paths.Settings);
            return Task.CompletedTask;
        });
        _local = _bus.LocalChannel();

        // No descriptor is registered on the client node: it learns that GetCitizen is unary (so
        // takes Exchange.Deliver) from the provider's description of CitizenService; the streaming
        // methods, and every method of UndescribedService, take Exchange.Stream.
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private static Metadata Headers(string service = CitizenService) => new()
    {
        { TransparentGrpc.ClientHeader, BusFixture.ClientSubsystem },
        { TransparentGrpc.ServiceHeader, service },
        { TransparentGrpc.UserIdHeader, "official-7" },
    };

    private AsyncUnaryCall<Citizen> GetCitizen(string citizenId, string service = CitizenService) =>
        new CitizenRegistry.CitizenRegistryClient(_local).GetCitizenAsync(
            new GetCitizenRequest { CitizenId = citizenId }, Headers(service), DateTime.UtcNow.AddSeconds(20));

    [Test]
    public async Task GetCitizen_TypedStubThroughBothNodes_AnswersAndLogsTheMethodOnBothSides()
    {
        using var call = GetCitizen("001099012345");
        var citizen = await call.ResponseAsync;

        Assert.That(citizen.FullName, Is.EqualTo("Nguyễn Văn An"));
        Assert.That(citizen.Province, Is.EqualTo($"asked-by:{BusFixture.ClientSubsystem}"), "the backend sees the authenticated client");
        Assert.That(call.GetTrailers().GetValue("x-backend-trailer"), Is.EqualTo("kept"));
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader);
        Assert.That(messageId, Is.Not.Null);
        foreach (var node in new[] { _bus.ClientNode, _bus.ProviderNode })
        {
            var records = node.Log.FindByMessageId(messageId!);
            Assert.That(records, Has.Count.EqualTo(2));
            var request = MessageHeader.Parser.ParseFrom(records.Single(r => r.Record.Direction is MessageDirection.ClientRequest or MessageDirection.ProviderRequest).Record.Header);
            var response = MessageHeader.Parser.ParseFrom(records.Single(r => r.Record.Direction is MessageDirection.ClientResponse or MessageDirection.ProviderResponse).Record.Header);
            Assert.That(request.GrpcMethod, Is.EqualTo("/samples.citizen.v1.CitizenRegistry/GetCitizen"));
            Assert.That(request.UserId, Is.EqualTo("official-7"));
            Assert.That(response.GrpcStatus.Code, Is.Zero);
        }
    }

    [TestCase(CitizenService, 2, Description = "described: Exchange.Deliver, request and response")]
    [TestCase(UndescribedService, 5, Description = "no description: Exchange.Stream, request, request end, response headers, response, response end")]
    public async Task GetCitizen_ExchangeChosenFromTheProvidersDescription_BothSucceed(string service, int recordsPerNode)
    {
        using var call = GetCitizen("001099012345", service);
        var citizen = await call.ResponseAsync;

        Assert.That(citizen.FullName, Is.EqualTo("Nguyễn Văn An"));
        var messageId = (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader);
        Assert.That(messageId, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(_bus.ClientNode.Log.FindByMessageId(messageId!), Has.Count.EqualTo(recordsPerNode));
            Assert.That(_bus.ProviderNode.Log.FindByMessageId(messageId!), Has.Count.EqualTo(recordsPerNode));
        });
    }

    [TestCase(CitizenService, "unknown", false, Description = "Exchange.Deliver")]
    [TestCase(UndescribedService, "unknown", false, Description = "Exchange.Stream")]
    [TestCase(CitizenService, "headers-then-unknown", true, Description = "Exchange.Deliver, the backend's headers sent before its error")]
    [TestCase(UndescribedService, "headers-then-unknown", true, Description = "Exchange.Stream, the backend's headers sent before its error")]
    public async Task GetCitizen_BackendError_ComesBackWithItsStatusDetailsAndTrailers(string service, string citizenId, bool backendSentHeaders)
    {
        using var call = GetCitizen(citizenId, service);
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(ex.Status.Detail, Is.EqualTo("No citizen with that number."));
        Assert.That(ex.Trailers.GetValue("x-backend-trailer"), Is.EqualTo("kept"));
        Assert.That(ex.Trailers.GetValue(TransparentGrpc.ErrorSourceTrailer), Is.EqualTo("provider"));
        var details = ex.GetRpcStatus();
        Assert.That(details, Is.Not.Null);
        Assert.That(details!.Details.Single().Unpack<ErrorInfo>().Reason, Is.EqualTo("CITIZEN_NOT_FOUND"));
        var headers = await call.ResponseHeadersAsync;
        Assert.That(headers.GetValue("x-backend-header"), Is.EqualTo(backendSentHeaders ? "from-backend" : null));
        var messageId = headers.GetValue(TransparentGrpc.MessageIdHeader);
        var logged = _bus.ProviderNode.Log.FindByMessageId(messageId!).Last(r => r.Record.Direction == MessageDirection.ProviderResponse);
        Assert.That(MessageHeader.Parser.ParseFrom(logged.Record.Header).GrpcStatus.Code, Is.EqualTo((int)StatusCode.NotFound), "the backend's error is signed and logged");
    }

    [Test]
    public async Task GetCitizen_OwnHeadersCrossBothWaysSigned_TheBusAndTransportOnesDoNot()
    {
        var headers = Headers();
        headers.Add("x-caller-note", "hello backend");
        headers.Add("x-xbus-client", "VN/GOV/000.00.00.G01/forged");
        headers.Add("authorization", "Bearer secret");
        headers.Add("x-caller-bin", CallerBytes);
        using var call = new CitizenRegistry.CitizenRegistryClient(_local).GetCitizenAsync(
            new GetCitizenRequest { CitizenId = MetadataCitizen }, headers, DateTime.UtcNow.AddSeconds(20));
        var citizen = await call.ResponseAsync;

        Assert.That(citizen.FullName, Is.EqualTo("hello backend"), "the caller's own header reaches the backend");
        Assert.That(citizen.Province, Is.EqualTo(BusFixture.ClientSubsystem), "a caller cannot add to the bus's headers");
        Assert.That(citizen.DateOfBirth, Is.EqualTo("(none)"), "credentials do not cross");
        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.That(responseHeaders.GetValue("x-backend-header"), Is.EqualTo("from-backend"));
        Assert.That(responseHeaders.GetValueBytes("x-echo-bin"), Is.EqualTo(CallerBytes), "binary headers cross both ways, bytes as they were");
        Assert.That(call.GetTrailers().GetValueBytes("x-echo-trailer-bin"), Is.EqualTo(CallerBytes));
        var messageIds = responseHeaders.Where(h => h.Key == TransparentGrpc.MessageIdHeader).Select(h => h.Value).ToList();
        Assert.That(messageIds, Has.Count.EqualTo(1));
        Assert.That(messageIds[0], Is.Not.EqualTo("forged"), "the backend cannot set the bus's headers");
        Assert.That(call.GetTrailers().GetValue("x-backend-trailer"), Is.EqualTo("kept"));
        Assert.That(call.GetTrailers().GetValue(TransparentGrpc.ErrorSourceTrailer), Is.Null, "nor its trailers");

        foreach (var node in new[] { _bus.ClientNode, _bus.ProviderNode })
        {
            var records = node.Log.FindByMessageId(messageIds[0]);
            var request = MessageHeader.Parser.ParseFrom(records.Single(r => r.Record.Direction is MessageDirection.ClientRequest or MessageDirection.ProviderRequest).Record.Header);
            var response = MessageHeader.Parser.ParseFrom(records.Single(r => r.Record.Direction is MessageDirection.ClientResponse or MessageDirection.ProviderResponse).Record.Header);
            Assert.That(request.Metadata.ToDictionary(), Is.EqualTo(new Dictionary<string, string>
            {
                ["grpc.md.x-caller-note"] = "hello backend",
                ["grpc.md.x-caller-bin"] = Convert.ToBase64String(CallerBytes),
            }), "signed with the request, a binary value as its base64");
            Assert.That(response.Metadata.ToDictionary(), Is.EqualTo(new Dictionary<string, string>
            {
                ["grpc.md.x-backend-header"] = "from-backend",
                ["grpc.md.x-echo-bin"] = Convert.ToBase64String(CallerBytes),
            }), string.Join(";", response.Metadata));
            Assert.That(response.GrpcStatus.Trailers.Select(t => t.Key), Is.EqualTo(new[] { "x-backend-trailer", "x-echo-trailer-bin" }));
        }
    }

    [Test]
    public async Task GetCitizen_NotOnTheAccessList_RefusedWithTheBusCode()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => GetCitizen("001099012345", ClosedService).ResponseAsync);

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.AccessDenied));
        Assert.That(ex.Trailers.GetValue(TransparentGrpc.ErrorSourceTrailer), Is.Null);
    }

    [Test]
    public async Task GetCitizen_ThroughAServiceThatIsNotThisGrpcService_RefusedAsUnknownService()
    {
        // The fixture's echo service has a gRPC backend but names no gRPC service: no typed call reaches it.
        var ex = await Assert.ThrowsAsync<RpcException>(() => GetCitizen("001099012345", BusFixture.Service).ResponseAsync);

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.UnknownService));
    }

    [Test]
    public async Task GetCitizen_WithoutClientHeader_RefusedOnTheClientNode()
    {
        var headers = new Metadata { { TransparentGrpc.ServiceHeader, CitizenService } };
        var ex = await Assert.ThrowsAsync<RpcException>(() => new CitizenRegistry.CitizenRegistryClient(_local).GetCitizenAsync(
            new GetCitizenRequest { CitizenId = "001099012345" }, headers, DateTime.UtcNow.AddSeconds(20)).ResponseAsync);

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.InvalidIdentifier));
    }

    /// <summary>The provider's own CitizenRegistry server: it knows nothing of the bus but the x-xbus-client header.</summary>
    private sealed partial class CitizenRegistryBackend : CitizenRegistry.CitizenRegistryBase
    {
        public override async Task<Citizen> GetCitizen(GetCitizenRequest request, ServerCallContext context)
        {
            context.ResponseTrailers.Add("x-backend-trailer", "kept");
            if (request.CitizenId == MetadataCitizen)
            {
                // What the backend saw of the caller's headers, and headers and trailers of its own, the bus's among them.
                var echo = context.RequestHeaders.GetValueBytes("x-caller-bin") ?? [];
                await context.WriteResponseHeadersAsync(new Metadata { { "x-backend-header", "from-backend" }, { "x-echo-bin", echo }, { TransparentGrpc.MessageIdHeader, "forged" } });
                context.ResponseTrailers.Add(TransparentGrpc.ErrorSourceTrailer, "forged");
                context.ResponseTrailers.Add("x-echo-trailer-bin", echo);
                return new Citizen
                {
                    CitizenId = request.CitizenId,
                    FullName = context.RequestHeaders.GetValue("x-caller-note") ?? "(none)",
                    Province = string.Join(",", context.RequestHeaders.Where(h => h.Key == "x-xbus-client").Select(h => h.Value)),
                    DateOfBirth = context.RequestHeaders.GetValue("authorization") ?? "(none)",
                };
            }

            if (request.CitizenId is "unknown" or "headers-then-unknown")
            {
                if (request.CitizenId == "headers-then-unknown")
                {
                    await context.WriteResponseHeadersAsync(new Metadata { { "x-backend-header", "from-backend" } });
                }

                throw new Google.Rpc.Status
                {
                    Code = (int)Code.NotFound,
                    Message = "No citizen with that number.",
                    Details = { Google.Protobuf.WellKnownTypes.Any.Pack(new ErrorInfo { Reason = "CITIZEN_NOT_FOUND", Domain = "citizen.example" }) },
                }.ToRpcException();
            }

            return new Citizen
            {
                CitizenId = request.CitizenId,
                FullName = "Nguyễn Văn An",
                DateOfBirth = "1999-01-01",
                Province = $"asked-by:{context.RequestHeaders.GetValue("x-xbus-client")}",
            };
        }
    }
}
