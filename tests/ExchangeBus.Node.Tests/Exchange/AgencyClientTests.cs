// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Cli.Demo;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Tests.Shared;
using Grpc.Core;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// An agency system in another language (docs/clients.md): tests/interop-node/agency-client.js,
/// a grpc-js client that knows only proto/samples/citizen_registry.proto and the x-road-*
/// metadata, calls the demo's sample CitizenRegistry backend through the client's node and the
/// provider's node, and reads answers, the backend's own errors and the bus's refusals.
/// </summary>
[NonParallelizable]
public sealed class AgencyClientTests
{
    private const string CitizenService = BusFixture.ProviderSubsystem + "/citizenRegistry/v1";
    private const string ClosedService = BusFixture.ProviderSubsystem + "/citizenRegistryClosed";

    private readonly List<IAsyncDisposable> _backend = [];
    private BusFixture _bus = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        NodeScript.RequireInstalled();
        var address = await DemoCommand.StartBackendAsync(_backend, grpc: true);
        _bus = await BusFixture.StartAsync(prepared: bus =>
        {
            var paths = bus.ProviderData[0].Paths;
            var settings = NodeSettings.Read(paths.Settings);
            var backend = new BackendSettings { Kind = BackendKind.Grpc, Address = address, GrpcService = SampleCitizenRegistry.ServiceName, TimeoutMilliseconds = 5000 };
            (settings with
            {
                Services = [.. settings.Services, new ServiceSettings { Service = CitizenService, Backend = backend }, new ServiceSettings { Service = ClosedService, Backend = backend }],
                AccessRules = [.. settings.AccessRules, new AccessRule { Service = CitizenService, Subject = BusFixture.ClientSubsystem }],
            }).Write(paths.Settings);
            return Task.CompletedTask;
        });
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _bus.DisposeAsync();
        foreach (var item in _backend)
        {
            await item.DisposeAsync();
        }
    }

    private Task<JsonElement> GetCitizenAsync(string citizenId, string service = CitizenService) =>
        RunAsync("get-citizen", service, "--citizen-id", citizenId);

    private Task<JsonElement> RunAsync(string mode, string service, params string[] args) => NodeScript.RunJsonAsync(
        "agency-client.js", ["--mode", mode, "--target", new Uri(_bus.ClientNode.LocalAddress).Authority,
        "--client", BusFixture.ClientSubsystem, "--service", service, "--user-id", "official-7", "--timeout-ms", "30000", .. args]);

    [Test]
    public async Task GetCitizen_FromGrpcJs_AnswersWithTheMessageIdLoggedOnBothNodes()
    {
        var result = await GetCitizenAsync(DemoTypedGrpc.KnownCitizen);

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        var citizen = result.GetProperty("citizen");
        Assert.That(citizen.GetProperty("citizen_id").GetString(), Is.EqualTo(DemoTypedGrpc.KnownCitizen));
        Assert.That(citizen.GetProperty("full_name").GetString(), Is.EqualTo("Nguyễn Thị Lan"));
        var messageId = result.GetProperty("xRoadId").GetString();
        Assert.That(messageId, Is.Not.Null.And.Not.Empty);
        foreach (var node in new[] { _bus.ClientNode, _bus.ProviderNode })
        {
            Assert.That(node.Log.FindByMessageId(messageId!).Select(r => r.Record.Direction), Has.Some.AnyOf(MessageDirection.ClientRequest, MessageDirection.ProviderRequest));
        }
    }

    [Test]
    public async Task GetCitizen_UnknownCitizen_TheBackendsOwnErrorMarkedAsTheProviders()
    {
        var result = await GetCitizenAsync(DemoTypedGrpc.UnknownCitizen);

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False, result.ToString());
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo((int)StatusCode.NotFound));
        Assert.That(result.GetProperty("message").GetString(), Is.EqualTo("No citizen with that number."));
        Assert.That(result.GetProperty("errorSource").GetString(), Is.EqualTo("provider"));
        Assert.That(result.GetProperty("errorInfoReason").GetString(), Is.EqualTo(SampleCitizenRegistry.NotFoundReason));
        Assert.That(result.GetProperty("errorInfoDomain").GetString(), Is.EqualTo(SampleCitizenRegistry.ErrorDomain));
        Assert.That(result.GetProperty("xRoadId").GetString(), Is.Not.Null.And.Not.Empty, "the exchange happened: it has a message id");
    }

    [Test]
    public async Task GetCitizen_NotOnTheAccessList_RefusedWithTheXRoadCodeInStatusDetails()
    {
        var result = await GetCitizenAsync(DemoTypedGrpc.KnownCitizen, ClosedService);

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False, result.ToString());
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo((int)StatusCode.PermissionDenied));
        Assert.That(result.GetProperty("statusDetailsDecoded").GetBoolean(), Is.True);
        Assert.That(result.GetProperty("errorInfoReason").GetString(), Is.EqualTo(NodeErrors.AccessDenied));
        Assert.That(result.GetProperty("errorSource").ValueKind, Is.EqualTo(JsonValueKind.Null), "a bus refusal is not the provider's");
    }

    [Test]
    public async Task ListDocuments_FromGrpcJs_EveryDocumentInOrderAndEveryMessageLoggedOnBothNodes()
    {
        var result = await RunAsync("list-documents", CitizenService, "--citizen-id", DemoTypedGrpc.KnownCitizen);

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        var documents = result.GetProperty("documents").EnumerateArray().ToList();
        Assert.That(documents.Select(d => d.GetProperty("document_id").GetString()),
            Is.EqualTo(new[] { DemoTypedGrpc.KnownCitizen + "-1", DemoTypedGrpc.KnownCitizen + "-2" }));
        Assert.That(documents[1].GetProperty("kind").GetString(), Is.EqualTo("Giấy phép lái xe (driving licence) B2"));
        Assert.That(result.GetProperty("documentCount").GetString(), Is.EqualTo("2"), "the registry's own response header, sent before its first document");
        AssertLoggedOnBothNodes(result, [MessageKind.Request, MessageKind.RequestEnd], [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
    }

    [Test]
    public async Task UploadDocuments_FromGrpcJs_OneReceiptCountingEveryDocumentAndEveryMessageLoggedOnBothNodes()
    {
        var result = await RunAsync("upload-documents", CitizenService, "--document-ids", "scan-1,scan-2,scan-3");

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        var receipt = result.GetProperty("receipt");
        Assert.That(receipt.GetProperty("count").GetInt32(), Is.EqualTo(3));
        Assert.That(receipt.GetProperty("document_ids").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "scan-1", "scan-2", "scan-3" }));
        AssertLoggedOnBothNodes(result, [MessageKind.Request, MessageKind.Request, MessageKind.Request, MessageKind.RequestEnd], [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.ResponseEnd]);
    }

    [Test]
    public async Task Converse_FromGrpcJs_EachQuestionAnsweredAndEveryMessageLoggedOnBothNodes()
    {
        var result = await RunAsync("converse", CitizenService, "--citizen-id", DemoTypedGrpc.KnownCitizen, "--questions", "name?,born?,province?");

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        Assert.That(result.GetProperty("answers").EnumerateArray().Select(e => e.GetString()),
            Is.EqualTo(new[] { "Nguyễn Thị Lan", "1990-05-17", "Thành phố Hồ Chí Minh" }));
        AssertLoggedOnBothNodes(result,
            [MessageKind.Request, MessageKind.Request, MessageKind.Request, MessageKind.RequestEnd],
            [MessageKind.ResponseHeaders, MessageKind.Response, MessageKind.Response, MessageKind.Response, MessageKind.ResponseEnd]);
    }

    [Test]
    public async Task ListDocuments_UnknownCitizen_TheBackendsOwnErrorEndsTheStream()
    {
        var result = await RunAsync("list-documents", CitizenService, "--citizen-id", DemoTypedGrpc.UnknownCitizen);

        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False, result.ToString());
        Assert.That(result.GetProperty("code").GetInt32(), Is.EqualTo((int)StatusCode.NotFound));
        Assert.That(result.GetProperty("errorSource").GetString(), Is.EqualTo("provider"));
        Assert.That(result.GetProperty("errorInfoReason").GetString(), Is.EqualTo(SampleCitizenRegistry.NotFoundReason));
        Assert.That(result.GetProperty("documents").GetArrayLength(), Is.Zero);
        Assert.That(result.GetProperty("xRoadId").GetString(), Is.Not.Null.And.Not.Empty, "a stream that ends with no message still has its headers");
    }

    /// <summary>
    /// Both nodes logged the call's request chain and response chain, one record per streamed
    /// message and the end record last, each record a link of its chain (StreamPosition 0, 1, …).
    /// </summary>
    private void AssertLoggedOnBothNodes(JsonElement result, MessageKind[] request, MessageKind[] response)
    {
        var messageId = result.GetProperty("xRoadId").GetString();
        Assert.That(messageId, Is.Not.Null.And.Not.Empty);
        foreach (var (node, requestDirection, responseDirection) in new[]
        {
            (_bus.ClientNode, MessageDirection.ClientRequest, MessageDirection.ClientResponse),
            (_bus.ProviderNode, MessageDirection.ProviderRequest, MessageDirection.ProviderResponse),
        })
        {
            var records = node.Log.FindByMessageId(messageId!);
            foreach (var (direction, kinds) in new[] { (requestDirection, request), (responseDirection, response) })
            {
                var headers = records.Where(r => r.Record.Direction == direction).Select(r => MessageHeader.Parser.ParseFrom(r.Record.Header)).ToList();
                Assert.That(headers.Select(h => h.Kind), Is.EqualTo(kinds), $"{direction}");
                Assert.That(headers.Select(h => (int)h.StreamPosition), Is.EqualTo(Enumerable.Range(0, kinds.Length)), $"{direction}");
            }
        }
    }
}
