// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Hosting;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// The local TLS listener production systems use: a system presents the certificate node.json
/// registers for its subsystem and may act only as that subsystem. Certificates are made here
/// as an agency would (self-signed, pinned by hash); node.json is changed while the node runs.
/// </summary>
[NonParallelizable]
public sealed class LocalTlsTests
{
    private const string OtherSubsystem = BusFixture.Client + "/archive";

    private BusFixture _bus = null!;
    private X509Certificate2 _licence = null!;
    private X509Certificate2 _archive = null!;
    private X509Certificate2 _stranger = null!;
    private NodePaths _clientPaths = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _clientPaths = new NodePaths(Path.Combine(_bus.Root, "client"));
        _licence = SystemCertificate("licence system");
        _archive = SystemCertificate("archive system");
        _stranger = SystemCertificate("someone else");
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _licence.Dispose();
        _archive.Dispose();
        _stranger.Dispose();
        await _bus.DisposeAsync();
    }

    [SetUp]
    public void RegisterSystems() => ApplyClients(
        new ClientSettings { Subsystem = BusFixture.ClientSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(_licence) },
        new ClientSettings { Subsystem = OtherSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(_archive) });

    [Test]
    public async Task RegisteredSystem_WithItsCertificate_IsAnswered()
    {
        using var channel = TlsChannel(_licence);

        var response = await Call(channel, BusFixture.ClientSubsystem);

        Assert.That(response.Payload.ToStringUtf8(), Is.EqualTo($"echo:hello:{BusFixture.ClientSubsystem}"));
        Assert.That(_bus.ClientNode.Log.FindByMessageId(response.MessageId), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task SystemWithoutCertificate_IsRefused_WithACode_BeforeAnyService()
    {
        using var channel = TlsChannel(clientCertificate: null);
        var before = _bus.BackendCalls;

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        AssertNotAuthenticated(ex!, "without a client certificate");
        Assert.That(_bus.BackendCalls, Is.EqualTo(before));
    }

    [Test]
    public async Task UnregisteredCertificate_IsRefused_WithACode_BeforeAnyService()
    {
        using var channel = TlsChannel(_stranger);
        var before = _bus.BackendCalls;

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        AssertNotAuthenticated(ex!, "not registered");
        Assert.That(_bus.BackendCalls, Is.EqualTo(before));
    }

    [Test]
    public async Task UnregisteredCertificate_IsRefused_EvenTheMethodsThatNeedNoSubsystem()
    {
        // ListClients names no calling subsystem and health is the runtime's: the gate stands before both.
        using var channel = TlsChannel(_stranger);

        var list = await Assert.ThrowsAsync<RpcException>(() => new LocalGateway.LocalGatewayClient(channel).ListClientsAsync(new ListClientsRequest()).ResponseAsync);
        var health = await Assert.ThrowsAsync<RpcException>(() => new global::Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest()).ResponseAsync);

        AssertNotAuthenticated(list!, "not registered");
        AssertNotAuthenticated(health!, "not registered");
    }

    [Test]
    public async Task RegisteredCertificate_OutsideItsValidity_IsRefused()
    {
        using var expired = SystemCertificate("expired system", DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));
        ApplyClients(new ClientSettings { Subsystem = BusFixture.ClientSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(expired) });
        using var channel = TlsChannel(expired);

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        AssertNotAuthenticated(ex!, "outside its validity");
    }

    [Test]
    public async Task CertificateStruckOff_IsRefused_OnTheConnectionItAlreadyHas()
    {
        using var channel = TlsChannel(_licence);
        await Call(channel, BusFixture.ClientSubsystem);

        ApplyClients(new ClientSettings { Subsystem = OtherSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(_archive) });
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        AssertNotAuthenticated(ex!, "not registered");
    }

    [Test]
    public async Task RegisteredSystem_ActingAsAnotherSubsystem_IsRefused()
    {
        // The archive system's certificate is registered, but for the archive subsystem only.
        using var channel = TlsChannel(_archive);
        var before = _bus.BackendCalls;

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        Assert.That(ex!.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.ClientNotAuthenticated));
        Assert.That(_bus.BackendCalls, Is.EqualTo(before));
    }

    [Test]
    public async Task SystemRegisteredWithACertificate_MayNotUseThePlaintextPort()
    {
        using var channel = _bus.LocalChannel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.ClientNotAuthenticated));
    }

    [Test]
    public async Task SystemRegisteredWithoutACertificate_MayNotUseTheTlsPort()
    {
        // Pinned certificate of the licence system, but licence itself registered plaintext-only:
        // the handshake passes (the archive pin) and the call is refused.
        ApplyClients(
            new ClientSettings { Subsystem = BusFixture.ClientSubsystem },
            new ClientSettings { Subsystem = OtherSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(_archive) });
        using var channel = TlsChannel(_archive);

        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(channel, BusFixture.ClientSubsystem));

        Assert.That(ex!.ErrorCode, Is.EqualTo(NodeErrors.ClientNotAuthenticated));
    }

    [Test]
    public async Task CertificateRegisteredWhileRunning_IsAdmittedWithoutRestart_ByThePoll()
    {
        ApplyClients(new ClientSettings { Subsystem = BusFixture.ClientSubsystem });
        using (var refused = TlsChannel(_licence))
        {
            AssertNotAuthenticated((await Assert.ThrowsAsync<RpcException>(() => Call(refused, BusFixture.ClientSubsystem)))!, "not registered");
        }

        // Written as `xbus node client add --tls-cert` does, and left to the node's own poll.
        var settings = NodeSettings.Read(_clientPaths.Settings);
        (settings with { Clients = [new ClientSettings { Subsystem = BusFixture.ClientSubsystem, TlsCertificateSha256 = InternalTlsCertificate.Fingerprint(_licence) }] })
            .Write(_clientPaths.Settings);
        await MessageLog.SqliteMessageLogTests.WaitUntil(() =>
            _bus.ClientNode.Settings.Current.Clients.Single().TlsCertificateSha256 is not null);

        using var admitted = TlsChannel(_licence);
        var response = await Call(admitted, BusFixture.ClientSubsystem);
        Assert.That(response.Payload.ToStringUtf8(), Does.StartWith("echo:hello"));
    }

    [Test]
    public void LocalTlsCertificate_IsSelfSignedForLoopback_KeyOwnerOnly_AndStableAcrossStarts()
    {
        var certificate = _bus.ClientNode.LocalTlsCertificate!;
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();

        Assert.That(certificate.SubjectName.Name, Is.EqualTo(certificate.IssuerName.Name));
        Assert.That(names.EnumerateIPAddresses().Select(a => a.ToString()), Does.Contain("127.0.0.1"));
        Assert.That(names.EnumerateDnsNames(), Does.Contain("localhost"));
        Assert.That(File.GetUnixFileMode(_clientPaths.InternalTlsKey), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        using var again = InternalTlsCertificate.LoadOrCreate(_clientPaths, _bus.ClientNode.Node, TimeProvider.System);
        Assert.That(InternalTlsCertificate.Fingerprint(again), Is.EqualTo(InternalTlsCertificate.Fingerprint(certificate)));
    }

    [Test]
    public void SettingsWithAMalformedCertificatePin_AreRefused()
    {
        var settings = NodeSettings.Read(_clientPaths.Settings) with
        {
            Clients = [new ClientSettings { Subsystem = BusFixture.ClientSubsystem, TlsCertificateSha256 = "not-a-hash" }],
        };

        var ex = Assert.Throws<NodeConfigurationException>(() => settings.Write(_clientPaths.Settings));

        Assert.That(ex!.Code, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(ex.Message, Does.Contain("64 hex digits"));
    }

    [TestCase(true, "127.0.0.1:0", "127.0.0.1:0", "TLS only")]
    [TestCase(false, null, null, "needs a local listener")]
    [TestCase(false, "0.0.0.0:0", null, "loopback")]
    [TestCase(false, "127.0.0.1:0", null, "development: true")]
    public async Task StartOptions_ThatWouldExposeThePlaintextPort_OrServeNobody_AreRefused(bool production, string? plaintext, string? tls, string why)
    {
        var options = new NodeServerOptions { DataDirectory = _clientPaths.DataDirectory, Production = production, LocalListen = plaintext, LocalTlsListen = tls };

        var ex = await Assert.ThrowsAsync<NodeConfigurationException>(() => NodeServer.StartAsync(options));

        Assert.That(ex!.Code, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(ex.Message, Does.Contain(why));
    }

    private void ApplyClients(params ClientSettings[] clients)
    {
        var settings = NodeSettings.Read(_clientPaths.Settings);
        (settings with { Clients = clients }).Write(_clientPaths.Settings);
        var reload = _bus.ClientNode.Settings.Reload();
        Assert.That(reload.ErrorCode, Is.Null, reload.Message);
        Assert.That(_bus.ClientNode.Settings.Current.Clients, Is.EqualTo(clients));
    }

    private GrpcChannel TlsChannel(X509Certificate2? clientCertificate) =>
        BusChannel.Create(new Uri(_bus.ClientNode.LocalTlsAddress!), new BusChannelOptions
        {
            // Systems pin the node's local certificate, as they would be given it by its operator.
            ServerTrust = new CertificateTrust([X509CertificateLoader.LoadCertificate(_bus.ClientNode.LocalTlsCertificate!.RawData)], TimeProvider.System),
            ClientCertificate = clientCertificate,
        });

    private static Task<CallResponse> Call(GrpcChannel channel, string client) =>
        new LocalGateway.LocalGatewayClient(channel).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = client,
            Payload = ByteString.CopyFromUtf8("hello"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;

    private static void AssertNotAuthenticated(RpcException ex, string why)
    {
        Assert.That(ex.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), ex.Status.Detail);
        Assert.That(ex.ErrorCode, Is.EqualTo(NodeErrors.ClientNotAuthenticated));
        Assert.That(ex.CorrelationId, Is.Not.Null.And.Not.Empty);
        Assert.That(ex.Status.Detail, Does.Contain(why));
    }

    private static X509Certificate2 SystemCertificate(string name) =>
        SystemCertificate(name, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

    private static X509Certificate2 SystemCertificate(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = EcKeys.GenerateP256();
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([CertificateTrust.ClientAuthentication], false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }
}
