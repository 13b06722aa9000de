// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.Rest;

/// <summary>
/// X-Road's message protocol for REST (r1) end to end: a real <c>curl</c> process calls the
/// client's node on its local TLS port with a registered client certificate, the request crosses
/// to the provider's node over mutual TLS, and a pet store REST backend (Kestrel, a real socket)
/// answers. The requests are PR-REST 1.0.4's examples (section 6) with the service id ours.
/// </summary>
[NonParallelizable]
public sealed partial class RestProtocolTests
{
    private const string Petstore = BusFixture.ProviderSubsystem + "/petstore";
    private const string ClosedPetstore = BusFixture.ProviderSubsystem + "/petstoreClosed";
    private const string SmallPetstore = BusFixture.ProviderSubsystem + "/petstoreSmall";
    private const int SmallBodyBytes = 64;
    private const string PetstoreOpenApi = """
        openapi: 3.0.0
        info:
          title: Pet store
          version: 1.0.0
        paths:
          /v2/pets/{id}:
            get:
              operationId: getPet
              parameters:
                - name: id
                  in: path
                  required: true
                  schema:
                    type: integer
              responses:
                '200':
                  description: The pet
        """;

    private const string PetJson = """{ "id": 0, "category": { "id": 0, "name": "string" }, "name": "doggie", "photoUrls": [ "string" ], "tags": [ { "id": 0, "name": "string" } ], "status": "available"}""";

    private readonly ConcurrentQueue<Seen> _seen = new();
    private WebApplication _backend = null!;
    private BusFixture _bus = null!;
    private X509Certificate2 _system = null!;
    private string _files = "";
    private string _node = "";

    [OneTimeSetUp]
    public async Task SetUp()
    {
        Assert.That(Which("curl"), Is.True, "these tests run the real curl; test.sh installs it (apt-get install curl)");
        _backend = await StartPetstoreAsync();
        var address = _backend.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/";
        _bus = await BusFixture.StartAsync(prepared: bus =>
        {
            var paths = bus.ProviderData[0].Paths;
            var settings = NodeSettings.Read(paths.Settings);
            var backend = new BackendSettings { Kind = BackendKind.Rest, Address = address, TimeoutMilliseconds = 5000 };
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(paths.Settings)!, "petstore.yaml"), PetstoreOpenApi);
            (settings with
            {
                Services =
                [
                    .. settings.Services,
                    new ServiceSettings { Service = Petstore, Backend = backend, Description = "petstore.yaml" },
                    new ServiceSettings { Service = ClosedPetstore, Backend = backend, Description = "petstore.yaml" },
                    new ServiceSettings { Service = SmallPetstore, Backend = backend, MaxBodyBytes = SmallBodyBytes },
                    new ServiceSettings { Service = Streamed, Backend = backend, MaxBodyBytes = StreamedBodyBytes },
                    new ServiceSettings { Service = StreamedCapped, Backend = backend, MaxBodyBytes = CappedBodyBytes },
                ],
                AccessRules =
                [
                    .. settings.AccessRules,
                    new AccessRule { Service = Petstore, Subject = BusFixture.ClientSubsystem },
                    new AccessRule { Service = SmallPetstore, Subject = BusFixture.ClientSubsystem },
                    new AccessRule { Service = Streamed, Subject = BusFixture.ClientSubsystem },
                    new AccessRule { Service = StreamedCapped, Subject = BusFixture.ClientSubsystem },
                ],
            }).Write(paths.Settings);
            return Task.CompletedTask;
        });

        // The agency system: a self-signed certificate registered for its subsystem, as
        // `xbus node client add --tls-cert` does; curl pins the node's local certificate.
        _system = SystemCertificate();
        _files = Directory.CreateTempSubdirectory("xbus-curl-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_files, "node.pem"), _bus.ClientNode.LocalTlsCertificate!.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(_files, "system.pem"), _system.ExportCertificatePem());
        using (var key = _system.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(Path.Combine(_files, "system.key"), key.ExportPkcs8PrivateKeyPem());
        }

        var clientPaths = _bus.ClientData.Paths;
        (NodeSettings.Read(clientPaths.Settings) with
        {
            Clients = [new ClientSettings { Subsystem = BusFixture.ClientSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(_system) }],
            MaxRestBodyBytes = StreamedBodyBytes,
        }).Write(clientPaths.Settings);
        var reload = _bus.ClientNode.Settings.Reload();
        Assert.That(reload.ErrorCode, Is.Null, reload.Message);
        _node = _bus.ClientNode.LocalTlsAddress!;
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _bus.DisposeAsync();
        await _backend.DisposeAsync();
        _system.Dispose();
        Directory.Delete(_files, recursive: true);
    }

    [SetUp]
    public void Forget()
    {
        _seen.Clear();
        _received.Clear();
    }

    [Test]
    public async Task Section62Get_OverHttp11_WithQuery_AnswersWithTheXRoadHeaders_AndBothNodesLogIt()
    {
        // 3.1: HTTP/1.1 SHALL be supported; the query passes unmodified (4.5).
        var answer = await CurlAsync("--http1.1", "-X", "GET", $"{_node}/r1/{Petstore}/v2/pets/1124?full=1&note=a%20b",
            "-H", "accept: application/json", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Version, Is.EqualTo("1.1"));
            Assert.That(answer.Status, Is.EqualTo(200));
            Assert.That(answer.Header("Content-Type"), Is.EqualTo("application/json;charset=utf-8"));
            using var pet = JsonDocument.Parse(answer.Body);
            Assert.That(pet.RootElement.GetProperty("name").GetString(), Is.EqualTo("Siddu"));
            Assert.That(answer.Header("X-Road-Client"), Is.EqualTo(BusFixture.ClientSubsystem));
            Assert.That(answer.Header("X-Road-Service"), Is.EqualTo(Petstore));
            Assert.That(answer.Header("X-Road-Request-Id"), Does.Match("^[0-9a-f]{32}$"));
            Assert.That(answer.Header("X-Road-Id"), Is.EqualTo(answer.Header("X-Road-Request-Id")), "no X-Road-Id sent: the message id stands for it");
            Assert.That(answer.Header("X-Road-Error"), Is.Null);
        });
        var seen = _seen.Single();
        Assert.Multiple(() =>
        {
            Assert.That(seen.Method, Is.EqualTo("GET"));
            Assert.That(seen.Target, Is.EqualTo("/v2/pets/1124?full=1&note=a%20b"));
            Assert.That(seen.Headers["x-road-client"], Is.EqualTo(BusFixture.ClientSubsystem));
            Assert.That(seen.Headers["x-road-service"], Is.EqualTo(Petstore));
            Assert.That(seen.Headers["accept"], Is.EqualTo("application/json"));
            Assert.That(seen.Headers.ContainsKey("user-agent"), Is.False, "4.3: User-Agent is filtered");
        });

        // X-Road-Request-Hash is the hash the provider signed into its response (deliberate difference 2).
        var messageId = answer.Header("X-Road-Request-Id")!;
        var provider = Logged(_bus.ProviderNode.Log, messageId, MessageDirection.ProviderResponse);
        Assert.That(answer.Header("X-Road-Request-Hash"), Is.EqualTo(Convert.ToBase64String(provider.RequestHash.ToByteArray())));
        var request = Logged(_bus.ClientNode.Log, messageId, MessageDirection.ClientRequest);
        Assert.Multiple(() =>
        {
            Assert.That(request.Metadata["rest.method"], Is.EqualTo("GET"));
            Assert.That(request.Metadata["rest.path"], Is.EqualTo("/v2/pets/1124"));
            Assert.That(request.Metadata["rest.query"], Is.EqualTo("full=1&note=a%20b"));
            Assert.That(Logged(_bus.ClientNode.Log, messageId, MessageDirection.ClientResponse).Metadata["rest.status"], Is.EqualTo("200"));
        });
    }

    [Test]
    public async Task Section64Post_JsonBody_ReachesTheBackendUnchanged_AndItsAnswerComesBack()
    {
        var xroadId = Guid.NewGuid().ToString();
        var answer = await CurlAsync("-X", "POST", $"{_node}/r1/{Petstore}/v2/pets",
            "-H", "accept: application/json", "-H", "Content-Type: application/json", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}",
            "-H", $"X-Road-Id: {xroadId}", "-d", PetJson);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Version, Is.EqualTo("2"), "curl negotiates h2 by ALPN where it can");
            Assert.That(answer.Status, Is.EqualTo(200));
            using var pet = JsonDocument.Parse(answer.Body);
            Assert.That(pet.RootElement.GetProperty("id").GetInt64(), Is.EqualTo(5657082955040122));
            Assert.That(pet.RootElement.GetProperty("name").GetString(), Is.EqualTo("doggie"));
            Assert.That(answer.Header("X-Road-Id"), Is.EqualTo(xroadId), "the caller's X-Road-Id comes back");
            Assert.That(answer.Header("X-Road-Request-Id"), Is.Not.EqualTo(xroadId));
            Assert.That(answer.Header("X-Road-Request-Hash"), Has.Length.EqualTo(44));
        });
        var seen = _seen.Single();
        Assert.Multiple(() =>
        {
            Assert.That(seen.Method, Is.EqualTo("POST"));
            Assert.That(seen.Target, Is.EqualTo("/v2/pets"));
            Assert.That(Encoding.UTF8.GetString(seen.Body), Is.EqualTo(PetJson));
            Assert.That(seen.Headers["content-type"], Is.EqualTo("application/json"));
            Assert.That(seen.Headers["x-road-id"], Is.EqualTo(xroadId));
        });
    }

    [Test]
    public async Task Section63Put_And65Delete_PassMethodAndPath()
    {
        var put = await CurlAsync("-X", "PUT", $"{_node}/r1/{Petstore}/v2/pets/5657082955040009",
            "-H", "accept: application/json", "-H", "Content-Type: application/json", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "-d", PetJson);
        var delete = await CurlAsync("-X", "DELETE", $"{_node}/r1/{Petstore}/v2/pets/1124", "-H", "accept: application/json", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        Assert.Multiple(() =>
        {
            Assert.That(put.Status, Is.EqualTo(200));
            Assert.That(delete.Status, Is.EqualTo(200));
            Assert.That(delete.Body, Is.Empty);
            Assert.That(delete.Header("X-Road-Request-Id"), Does.Match("^[0-9a-f]{32}$"));
            Assert.That(_seen.Select(s => $"{s.Method} {s.Target}"), Is.EqualTo(new[] { "PUT /v2/pets/5657082955040009", "DELETE /v2/pets/1124" }));
        });
    }

    [Test]
    public async Task BackendErrorStatus_PassesThroughUnchanged_AsTheBackendsAnswer()
    {
        // 4.6 category 1: the backend's own 404 and 503 are answers, signed and logged, not refusals.
        var missing = await CurlAsync($"{_node}/r1/{Petstore}/v2/pets/404", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");
        var down = await CurlAsync($"{_node}/r1/{Petstore}/v2/maintenance", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        Assert.Multiple(() =>
        {
            Assert.That(missing.Status, Is.EqualTo(404));
            Assert.That(missing.Body, Is.EqualTo("""{"code":1,"type":"error","message":"Pet not found"}"""));
            Assert.That(missing.Header("X-Road-Error"), Is.Null, "not a node's refusal");
            Assert.That(missing.Header("X-Road-Request-Id"), Is.Not.Null);
            Assert.That(down.Status, Is.EqualTo(503));
            Assert.That(down.Header("Retry-After"), Is.EqualTo("120"));
            Assert.That(down.Header("X-Road-Error"), Is.Null);
            Assert.That(Logged(_bus.ProviderNode.Log, missing.Header("X-Road-Request-Id")!, MessageDirection.ProviderResponse).Metadata["rest.status"], Is.EqualTo("404"));
        });
    }

    [Test]
    public async Task RefusedOnTheClientNode_WithoutXRoadClient_XRoadErrorJson()
    {
        var answer = await CurlAsync($"{_node}/r1/{Petstore}/v2/pets/1124", "-H", "accept: application/json");

        AssertRefusal(answer, 400, NodeErrors.BadRequest);
        Assert.That(_seen, Is.Empty);
    }

    [Test]
    public async Task RefusedOnTheClientNode_ActingAsAnUnregisteredSubsystem()
    {
        var answer = await CurlAsync($"{_node}/r1/{Petstore}/v2/pets/1124", "-H", $"X-Road-Client: {BusFixture.Client}/archive");

        AssertRefusal(answer, 400, NodeErrors.UnregisteredClient);
    }

    [Test]
    public async Task RefusedAtTheTlsGate_WithoutAClientCertificate_InRestForm()
    {
        var answer = await CurlAsync(certificate: false, $"{_node}/r1/{Petstore}/v2/pets/1124", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        AssertRefusal(answer, 400, NodeErrors.ClientNotAuthenticated);
        Assert.That(_seen, Is.Empty);
    }

    [Test]
    public async Task RefusedByTheProvider_NotOnItsAccessList_AccessDenied()
    {
        var answer = await CurlAsync($"{_node}/r1/{ClosedPetstore}/v2/pets/1124", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        AssertRefusal(answer, 500, NodeErrors.AccessDenied);
        Assert.That(_seen, Is.Empty);
    }

    [Test]
    public async Task BodyOverTheServicesCap_RefusedByTheProvider_BeforeTheBackend()
    {
        var answer = await CurlAsync("-X", "POST", $"{_node}/r1/{SmallPetstore}/v2/pets", "-H", "Content-Type: application/json",
            "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "-d", PetJson);

        Assert.That(PetJson.Length, Is.GreaterThan(SmallBodyBytes));
        AssertRefusal(answer, 400, NodeErrors.PayloadTooLarge);
        Assert.That(_seen, Is.Empty);
    }

    [Test]
    public async Task BodyOverTheClientNodesCap_RefusedOnTheClientNode_FromItsDeclaredLength()
    {
        var big = Path.Combine(_files, "big.json");
        using (var sparse = File.Create(big))
        {
            sparse.SetLength(StreamedBodyBytes + 1L);
        }

        var answer = await CurlAsync("--http1.1", "-X", "POST", $"{_node}/r1/{Petstore}/v2/pets", "-H", "Content-Type: application/octet-stream",
            "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "-T", big);

        AssertRefusal(answer, 400, NodeErrors.PayloadTooLarge);
        Assert.That(_seen, Is.Empty);
    }

    [TestCase("listMethods", new[] { "petstore", "petstoreClosed", "petstoreSmall" })]
    [TestCase("allowedMethods", new[] { "petstore", "petstoreSmall" })]
    public async Task ListAndAllowedMethods_AnswerXRoadsServiceList_ThroughBothNodesLogs(string metaservice, string[] expected)
    {
        var answer = await CurlAsync($"{_node}/r1/{BusFixture.ProviderSubsystem}/{metaservice}", "-H", "accept: application/json", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        using var json = JsonDocument.Parse(answer.Body);
        var services = json.RootElement.GetProperty("service").EnumerateArray().ToList();
        var provider = Core.Identifiers.SubsystemId.Parse(BusFixture.ProviderSubsystem);
        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(200), answer.Body);
            Assert.That(answer.Header("Content-Type"), Is.EqualTo("application/json;charset=utf-8"));
            Assert.That(answer.Header("X-Road-Service"), Is.EqualTo($"{BusFixture.ProviderSubsystem}/{metaservice}"));
            Assert.That(answer.Header("X-Road-Client"), Is.EqualTo(BusFixture.ClientSubsystem));
            Assert.That(answer.Header("X-Road-Error"), Is.Null);
            Assert.That(services.Select(s => s.GetProperty("service_code").GetString()), Is.SupersetOf(expected));
            Assert.That(services.Select(s => s.GetProperty("service_code").GetString()), Has.None.EqualTo(metaservice), "PR-MREST 4: no metaservices in the list");
            var petstore = services.Single(s => s.GetProperty("service_code").GetString() == "petstore");
            Assert.That(petstore.GetProperty("object_type").GetString(), Is.EqualTo("SERVICE"));
            Assert.That(petstore.GetProperty("xroad_instance").GetString(), Is.EqualTo(provider.Member.Instance));
            Assert.That(petstore.GetProperty("member_class").GetString(), Is.EqualTo(provider.Member.MemberClass));
            Assert.That(petstore.GetProperty("member_code").GetString(), Is.EqualTo(provider.Member.MemberCode));
            Assert.That(petstore.GetProperty("subsystem_code").GetString(), Is.EqualTo(provider.SubsystemCode));
        });
        if (metaservice == "allowedMethods")
        {
            Assert.That(services.Select(s => s.GetProperty("service_code").GetString()), Has.None.EqualTo("petstoreClosed"));
        }

        AssertLoggedOnBothNodes(answer);
        Assert.That(_seen, Is.Empty, "a metaservice never reaches a backend");
    }

    [Test]
    public async Task GetOpenApi_AnswersTheRegisteredDocument_WithItsMediaType()
    {
        var answer = await CurlAsync($"{_node}/r1/{BusFixture.ProviderSubsystem}/getOpenAPI?serviceCode=petstore", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(200), answer.Body);
            Assert.That(answer.Body, Is.EqualTo(PetstoreOpenApi));
            Assert.That(answer.Header("Content-Type"), Is.EqualTo("application/yaml;charset=utf-8"));
            Assert.That(answer.Header("X-Road-Service"), Is.EqualTo($"{BusFixture.ProviderSubsystem}/getOpenAPI"));
            Assert.That(answer.Header("X-Road-Error"), Is.Null);
        });
        AssertLoggedOnBothNodes(answer);
        Assert.That(_seen, Is.Empty);
    }

    [TestCase("serviceCode=petstoreSmall", 500, NodeErrors.NoServiceDescription)]
    [TestCase("serviceCode=petstoreClosed", 500, NodeErrors.AccessDenied)]
    [TestCase("serviceCode=nothingHere", 500, NodeErrors.UnknownService)]
    [TestCase("other=petstore", 400, NodeErrors.BadRequest)]
    public async Task GetOpenApi_Refusals_AreXRoadErrors(string query, int status, string type)
    {
        var answer = await CurlAsync($"{_node}/r1/{BusFixture.ProviderSubsystem}/getOpenAPI?{query}", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

        AssertRefusal(answer, status, type);
    }

    private void AssertLoggedOnBothNodes(Answer answer)
    {
        var messageId = answer.Header("X-Road-Request-Id")!;
        Assert.That(messageId, Does.Match("^[0-9a-f]{32}$"));
        var provider = Logged(_bus.ProviderNode.Log, messageId, MessageDirection.ProviderResponse);
        Assert.Multiple(() =>
        {
            Assert.That(answer.Header("X-Road-Request-Hash"), Is.EqualTo(Convert.ToBase64String(provider.RequestHash.ToByteArray())));
            Assert.That(Logged(_bus.ClientNode.Log, messageId, MessageDirection.ClientResponse), Is.Not.Null);
        });
    }

    private static void AssertRefusal(Answer answer, int status, string type)
    {
        using var json = JsonDocument.Parse(answer.Body);
        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(status), answer.Body);
            Assert.That(answer.Header("X-Road-Error"), Is.EqualTo(type));
            Assert.That(answer.Header("Content-Type"), Is.EqualTo("application/json;charset=utf-8"));
            Assert.That(json.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "type", "message", "detail" }));
            Assert.That(json.RootElement.GetProperty("type").GetString(), Is.EqualTo(type));
            Assert.That(json.RootElement.GetProperty("message").GetString(), Is.Not.Empty);
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Is.Not.Empty, "the correlation id");
        });
    }

    private static MessageHeader Logged(SqliteMessageLog log, string messageId, MessageDirection direction) =>
        MessageHeader.Parser.ParseFrom(log.FindByMessageId(messageId).Single(r => r.Record.Direction == direction).Record.Header);

    private Task<Answer> CurlAsync(params string[] arguments) => CurlAsync(certificate: true, arguments);

    /// <summary>Runs curl as an agency's developer would, with the node's certificate pinned and, unless told not to, the system's own.</summary>
    private async Task<Answer> CurlAsync(bool certificate, params string[] arguments)
    {
        var run = await RunCurlAsync(certificate, arguments);
        Assert.That(run.ExitCode, Is.Zero, run.Error);
        return run.Answer(File.Exists(run.BodyPath) ? await File.ReadAllTextAsync(run.BodyPath) : "");
    }

    /// <summary>curl's run, its exit code not judged, the body left in a file (it may be large).</summary>
    private async Task<CurlRun> RunCurlAsync(bool certificate, params string[] arguments)
    {
        var headers = Path.Combine(_files, Guid.NewGuid().ToString("N") + ".headers");
        var body = Path.Combine(_files, Guid.NewGuid().ToString("N") + ".body");
        string[] pins = certificate
            ? ["--cert", Path.Combine(_files, "system.pem"), "--key", Path.Combine(_files, "system.key")]
            : [];
        var start = new ProcessStartInfo("curl", [
            "--silent", "--show-error", "--max-time", "60", "--cacert", Path.Combine(_files, "node.pem"), .. pins, .. arguments,
            "--dump-header", headers, "--output", body, "--write-out", "%{http_code} %{http_version}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var curl = Process.Start(start)!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        var error = await curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();
        var parts = output.Split(' ');
        return new CurlRun(curl.ExitCode, error, int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1],
            File.Exists(headers) ? await File.ReadAllLinesAsync(headers) : [], body);
    }

    private static bool Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(directory => File.Exists(Path.Combine(directory, tool)));

    private static X509Certificate2 SystemCertificate()
    {
        using var key = EcKeys.GenerateP256();
        var request = new CertificateRequest("CN=pet shop system", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([CertificateTrust.ClientAuthentication], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>The pet store of PR-REST's examples (its appendix 1), enough of it for section 6.</summary>
    private async Task<WebApplication> StartPetstoreAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        app.Map("/{**rest}", async context =>
        {
            if (context.Request.Path.StartsWithSegments("/stream", StringComparison.Ordinal))
            {
                await StreamingBackendAsync(context);
                return;
            }

            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy);
            _seen.Enqueue(new Seen(
                context.Request.Method, context.Features.Get<IHttpRequestFeature>()!.RawTarget,
                context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), copy.ToArray()));
            var response = context.Response;
            switch (context.Request.Method, context.Request.Path.Value)
            {
                case ("GET", "/v2/pets/1124"):
                    response.ContentType = "application/json;charset=utf-8";
                    await response.WriteAsync("""{"id":1124,"name":"Siddu","photoUrls":[],"tags":[],"status":"Offline"}""");
                    break;
                case ("GET", "/v2/pets/404"):
                    response.StatusCode = 404;
                    response.ContentType = "application/json";
                    await response.WriteAsync("""{"code":1,"type":"error","message":"Pet not found"}""");
                    break;
                case ("GET", "/v2/maintenance"):
                    response.StatusCode = 503;
                    response.Headers.RetryAfter = "120";
                    break;
                case ("POST", "/v2/pets"):
                case ("PUT", "/v2/pets/5657082955040009"):
                    using (var pet = JsonDocument.Parse(copy.ToArray()))
                    {
                        var id = context.Request.Method == "POST" ? 5657082955040122 : 5657082955040009;
                        response.ContentType = "application/json";
                        await response.WriteAsync($$"""{"id":{{id}},"name":"{{pet.RootElement.GetProperty("name").GetString()}}","status":"available"}""");
                    }

                    break;
                case ("DELETE", "/v2/pets/1124"):
                    break;
                default:
                    response.StatusCode = 400;
                    break;
            }
        });
        await app.StartAsync();
        return app;
    }

    private sealed record Seen(string Method, string Target, Dictionary<string, string> Headers, byte[] Body);

    private sealed record CurlRun(int ExitCode, string Error, int Status, string Version, string[] HeaderLines, string BodyPath)
    {
        public Answer Answer(string body) => new(Status, Version, HeaderLines, body);
    }

    private sealed record Answer(int Status, string Version, string[] HeaderLines, string Body)
    {
        /// <summary>The value of a response header (the last response's, case-insensitive), or null.</summary>
        public string? Header(string name) => HeaderLines
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim())
            .LastOrDefault();
    }
}
