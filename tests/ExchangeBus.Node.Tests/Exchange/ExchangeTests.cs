// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Hosting;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>A call through two nodes over real mTLS, and refusals that must never reach the backend.</summary>
[NonParallelizable]
public sealed class ExchangeTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _local = _bus.LocalChannel();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
    }

    private Task<CallResponse> Call(string service = BusFixture.Service, string client = BusFixture.ClientSubsystem, string payload = "hello") =>
        new LocalGateway.LocalGatewayClient(_local).CallAsync(new CallRequest
        {
            Service = service,
            Client = client,
            UserId = "official-7",
            SubjectId = "citizen-001",
            Payload = ByteString.CopyFromUtf8(payload),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;

    [Test]
    public async Task Call_ThroughBothNodes_AnsweredAndLoggedOnBothSides()
    {
        var response = await Call();

        Assert.That(response.Payload.ToStringUtf8(), Is.EqualTo($"echo:hello:{BusFixture.ClientSubsystem}"));
        Assert.That(response.ProviderNode, Is.EqualTo(BusFixture.Provider + "/ss1"));
        var client = _bus.ClientNode.Log.FindByMessageId(response.MessageId).Select(e => e.Record.Direction);
        var provider = _bus.ProviderNode.Log.FindByMessageId(response.MessageId).Select(e => e.Record.Direction);
        Assert.That(client, Is.EquivalentTo(new[] { MessageDirection.ClientRequest, MessageDirection.ClientResponse }));
        Assert.That(provider, Is.EquivalentTo(new[] { MessageDirection.ProviderRequest, MessageDirection.ProviderResponse }));
        Assert.That(_bus.ProviderNode.Log.Verify().IsValid, Is.True);
        Assert.That(_bus.ProviderNode.Log.FindByMessageId(response.MessageId)[0].Record.SubjectId, Is.EqualTo("citizen-001"));
    }

    [Test]
    public async Task UnknownService_RefusedByProvider()
    {
        var before = _bus.BackendCalls;
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(service: BusFixture.ProviderSubsystem + "/nothing"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.UnknownService));
        Assert.That(ex.CorrelationId, Is.Not.Empty);
        Assert.That(_bus.BackendCalls, Is.EqualTo(before));
    }

    [Test]
    public async Task UnregisteredClient_RefusedByClientNode()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(client: BusFixture.Client + "/other"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.UnregisteredClient));
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
    }

    [Test]
    public async Task BadIdentifier_Refused()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(service: "VN/GOV/has space/x/y"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.InvalidIdentifier));
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
    }

    [Test]
    public async Task BackendPastItsDeadline_ServiceTimeout()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(payload: "slow"));
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.ServiceTimeout));
    }

    [Test]
    public async Task OversizedPayload_PayloadTooLargeAndNothingSent()
    {
        using var channel = BusChannel.Create(new Uri(_bus.ClientNode.LocalAddress), new BusChannelOptions { MaxSendMessageSize = 16 << 20 });
        var before = _bus.ClientNode.Log.LastSequence();
        var ex = await Assert.ThrowsAsync<RpcException>(() => new LocalGateway.LocalGatewayClient(channel).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFrom(new byte[NodeLimits.MaxPayloadBytes + 1]),
        }).ResponseAsync);
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.PayloadTooLarge));
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(_bus.ClientNode.Log.LastSequence(), Is.EqualTo(before));
    }

    [Test]
    public async Task LargestPayload_GoesThrough()
    {
        using var channel = BusChannel.Create(new Uri(_bus.ClientNode.LocalAddress), new BusChannelOptions
        {
            MaxSendMessageSize = NodeLimits.MaxMessageBytes,
            MaxReceiveMessageSize = NodeLimits.MaxMessageBytes,
        });
        var response = await new LocalGateway.LocalGatewayClient(channel).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8(new string('a', NodeLimits.MaxPayloadBytes - 100)),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30))).ResponseAsync;
        Assert.That(response.Payload.Length, Is.GreaterThan(NodeLimits.MaxPayloadBytes - 100));
    }

    [Test]
    public async Task BackendDown_ServiceUnavailable()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(service: BusFixture.DeadService));
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.ServiceUnavailable));
    }

    [Test]
    public async Task MetricsAndHealth_ReportCallsAndReadiness()
    {
        await Call();
        using var http = new HttpClient();
        // The exporter writes labels in its own order, which Prometheus ignores: read the text as a scraper does.
        var metrics = PrometheusText.Parse(await http.GetStringAsync(new Uri(_bus.ProviderNode.MetricsAddress + "/metrics")));
        Assert.That(metrics.Value("xbus_calls_total", ("side", "provider"), ("service", BusFixture.Service), ("outcome", "OK")), Is.GreaterThanOrEqualTo(1));
        Assert.That(metrics.Value("xbus_call_duration_seconds_bucket", ("side", "provider"), ("le", "+Inf")), Is.GreaterThanOrEqualTo(1));
        Assert.That(metrics.Types["xbus_message_log_queue_depth"], Is.EqualTo("gauge"));
        Assert.That(await http.GetStringAsync(new Uri(_bus.ProviderNode.MetricsAddress + "/health/ready")), Is.EqualTo("ready"));
        var health = await new global::Grpc.Health.V1.Health.HealthClient(_local).CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest()).ResponseAsync;
        Assert.That(health.Status, Is.EqualTo(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task Metrics_TwoNodesInOneProcess_EachCountsOnlyItsOwnSide()
    {
        using var http = new HttpClient();
        async Task<PrometheusText> Scrape(NodeServer node) =>
            PrometheusText.Parse(await http.GetStringAsync(new Uri(node.MetricsAddress + "/metrics")));
        double Ok(PrometheusText metrics, string side) =>
            metrics.Find("xbus_calls_total", ("side", side), ("service", BusFixture.Service), ("outcome", "OK")).Sum(s => s.Value);

        var (clientBefore, providerBefore) = (await Scrape(_bus.ClientNode), await Scrape(_bus.ProviderNode));
        await Call();
        await Call();
        var (client, provider) = (await Scrape(_bus.ClientNode), await Scrape(_bus.ProviderNode));

        // The client node and the provider node share this process: each exports its own calls only.
        Assert.That(Ok(client, "client") - Ok(clientBefore, "client"), Is.EqualTo(2));
        Assert.That(Ok(provider, "provider") - Ok(providerBefore, "provider"), Is.EqualTo(2));
        Assert.That(client.Find("xbus_calls_total", ("side", "provider")), Is.Empty);
        Assert.That(provider.Find("xbus_calls_total", ("side", "client")), Is.Empty);

        // ASP.NET Core's meters come from the same node: the provider's requests are those on its own listeners.
        var peerPort = _bus.ProviderNode.PeerAddress.Split(':')[^1];
        Assert.That(provider.Find("kestrel_active_connections", ("server_port", peerPort)), Is.Not.Empty);
        Assert.That(client.Find("kestrel_active_connections", ("server_port", peerPort)), Is.Empty);
        Assert.That(provider.Find("http_server_request_duration_seconds_count", ("http_route", "/exchangebus.exchange.v1.Exchange/Deliver")).Sum(s => s.Value), Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public async Task LocalListener_ReflectionListsTheNodesServices_ThePeerListenerOffersNone()
    {
        Assert.That(await ExchangeBus.Tests.Shared.Reflection.ListServicesAsync(_local), Is.EqualTo(new[]
        {
            "exchangebus.files.v1.Files",
            "exchangebus.node.v1.LocalGateway",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        }));

        using var peer = _bus.PeerChannel(_bus.ClientNode.Keys.Authentication);
        var ex = await Assert.ThrowsAsync<RpcException>(() => ExchangeBus.Tests.Shared.Reflection.ListServicesAsync(peer));
        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
        var health = await new global::Grpc.Health.V1.Health.HealthClient(peer).CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest()).ResponseAsync;
        Assert.That(health.Status, Is.EqualTo(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task EachListener_ServesOnlyItsOwnEndpoints_WhateverAuthorityTheCallerNames()
    {
        // The peer listener's exchange, asked for on the local listener in the peer listener's name.
        using var h2c = new HttpClient();
        using var deliver = new HttpRequestMessage(HttpMethod.Post, new Uri(_bus.ClientNode.LocalAddress + "/exchangebus.exchange.v1.Exchange/Deliver"))
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(new byte[5]),
        };
        deliver.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        deliver.Headers.Host = _bus.ClientNode.PeerAddress;
        using var refused = await h2c.SendAsync(deliver);
        await refused.Content.ReadAsByteArrayAsync();
        var status = refused.Headers.TryGetValues("grpc-status", out var inHeaders) ? inHeaders : refused.TrailingHeaders.GetValues("grpc-status");
        Assert.That(status.Single(), Is.EqualTo(((int)StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        // The metrics listener's pages are not on a gRPC listener, and gRPC is not on the metrics listener.
        using var metricsOnLocal = new HttpRequestMessage(HttpMethod.Get, new Uri(_bus.ClientNode.LocalAddress + "/metrics"))
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var notFound = await h2c.SendAsync(metricsOnLocal);
        Assert.That(notFound.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.NotFound));
        using var grpcOnMetrics = await h2c.PostAsync(new Uri(_bus.ClientNode.MetricsAddress + "/exchangebus.node.v1.LocalGateway/Call"), new ByteArrayContent(new byte[5]));
        Assert.That(grpcOnMetrics.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Metaservices_ListAndAllowedMethods()
    {
        var listed = await new LocalGateway.LocalGatewayClient(_local).ListMethodsAsync(new ListMethodsRequest { Provider = BusFixture.ProviderSubsystem, Client = BusFixture.ClientSubsystem }).ResponseAsync;
        Assert.That(listed.Services, Is.EqualTo(new[] { BusFixture.DeadService, BusFixture.Service }));
        var allowed = await new LocalGateway.LocalGatewayClient(_local).AllowedMethodsAsync(new AllowedMethodsRequest { Provider = BusFixture.ProviderSubsystem, Client = BusFixture.ClientSubsystem }).ResponseAsync;
        Assert.That(allowed.Services, Is.EqualTo(new[] { BusFixture.DeadService, BusFixture.Service }));
    }
}

[NonParallelizable]
public sealed class AccessDeniedTests
{
    [Test]
    public async Task NoAccessRule_AccessDeniedAndBackendNeverCalled()
    {
        await using var bus = await BusFixture.StartAsync(allow: false);
        using var local = bus.LocalChannel();
        var ex = await Assert.ThrowsAsync<RpcException>(() => new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            Payload = ByteString.CopyFromUtf8("x"),
        }).ResponseAsync);
        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.AccessDenied));
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(bus.BackendCalls, Is.Zero);
        var refused = bus.ProviderNode.Log.Get(bus.ProviderNode.Log.LastSequence());
        Assert.That(refused!.Record.Status, Is.EqualTo(NodeErrors.AccessDenied));
    }
}
