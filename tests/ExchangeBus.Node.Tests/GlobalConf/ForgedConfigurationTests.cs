// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Tests.Audit;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBus.Node.Tests.GlobalConf;

/// <summary>
/// A forged global configuration served to a running node (docs/reliability.md, "Hostile
/// peers"): the client node's anchor names a fake registry on a real socket, with the registry's
/// own TLS certificate, that answers each poll with what the test chose. The node has the real
/// configuration cached from its first start; it must refuse every forgery with its code, keep
/// the cached one (in memory and on disk), and go on exchanging.
/// </summary>
[NonParallelizable]
public sealed class ForgedConfigurationTests
{
    private readonly CapturingLogger<ForgedConfigurationTests> _logs = new();
    private BusFixture _bus = null!;
    private NodeServer _provider = null!;
    private NodeServer _client = null!;
    private WebApplication _fakeRegistry = null!;
    private ECDsa _rogueKey = null!;
    private GlobalConfigurationSigner _rogue = null!;
    private byte[] _cached = null!;
    private GetGlobalConfigurationResponse _answer = new() { NotModified = true };
    private int _polls;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.PrepareAsync();
        _provider = await BusFixture.StartNodeAsync(_bus.ProviderData[0]);

        // The first start fetches the registry's configuration and caches it.
        await (await BusFixture.StartNodeAsync(_bus.ClientData)).DisposeAsync();
        var paths = _bus.ClientData.Paths;
        _cached = await File.ReadAllBytesAsync(paths.GlobalConfigurationCache);

        // A configuration-signing certificate from the bus's own CA, but not the anchor's.
        _rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rogueCertificate = _bus.Registry.Keys.Authority.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("VN", "Rogue", "Configuration signing"),
            PublicKey = new PublicKey(_rogueKey),
            Profile = CertificateProfile.ConfigurationSigning,
        });
        _rogue = new GlobalConfigurationSigner(rogueCertificate, _rogueKey);

        var fake = await StartFakeRegistryAsync();
        var anchor = ConfigurationAnchor.Read(paths.Anchor);
        ConfigurationAnchor.Create(anchor.Instance, fake, anchor.SigningCertificates, anchor.RegistryTlsTrustRoots, anchor.CreatedAt, anchor.RegistryTlsCertificates).Write(paths.Anchor, overwrite: true);
        _client = await BusFixture.StartNodeAsync(_bus.ClientData, logging: b => b.AddProvider(new Capture(_logs)));
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _client.DisposeAsync();
        await _provider.DisposeAsync();
        await _fakeRegistry.StopAsync();
        await _fakeRegistry.DisposeAsync();
        await _bus.DisposeAsync();
        _rogueKey.Dispose();
    }

    private static IEnumerable<TestCaseData> Forgeries()
    {
        yield return new TestCaseData(Forgery.SignedByAnotherKey, GlobalConfErrors.UnknownSigner).SetArgDisplayNames("signed by another key of the bus's CA");
        yield return new TestCaseData(Forgery.SignedByAnotherKeyClaimingTheAnchors, GlobalConfErrors.InvalidSignature).SetArgDisplayNames("signed by another key, naming the anchor's");
        yield return new TestCaseData(Forgery.Unsigned, GlobalConfErrors.Malformed).SetArgDisplayNames("no signature");
        yield return new TestCaseData(Forgery.GenuineWithOneBitFlipped, GlobalConfErrors.InvalidSignature).SetArgDisplayNames("the genuine one, one bit flipped");
    }

    [TestCaseSource(nameof(Forgeries))]
    public async Task ForgedConfiguration_Refused_CachedOneKept_ExchangesGoOn(Forgery forgery, string code)
    {
        var before = _client.Configuration.Latest!;
        var polls = _polls;
        var logged = _logs.Events.Count;
        _answer = new GetGlobalConfigurationResponse { Configuration = Forge(forgery), Version = before.Version + 1 };

        var installed = await _client.Configuration.RefreshAsync(CancellationToken.None);

        Assert.That(_polls, Is.GreaterThan(polls), "the node asked the fake registry");
        Assert.That(installed, Is.False);
        Assert.That(_client.Configuration.Latest!.ConfigurationSha256, Is.EqualTo(before.ConfigurationSha256));
        Assert.That(await File.ReadAllBytesAsync(_bus.ClientData.Paths.GlobalConfigurationCache), Is.EqualTo(_cached), "the cache on disk is untouched");
        Assert.That(_logs.Events.Skip(logged).Where(e => e.Id.Id == 4001).Select(e => e.Message), Has.Some.Contains($": {code} ("), "the refusal is logged with its code");

        using var local = BusChannel.Create(new Uri(_client.LocalAddress), new BusChannelOptions());
        var answer = await TreeHeadStamperTests.Call(local);
        Assert.That(answer.Payload.ToStringUtf8(), Does.StartWith("echo:hello"));
    }

    public enum Forgery
    {
        SignedByAnotherKey,
        SignedByAnotherKeyClaimingTheAnchors,
        Unsigned,
        GenuineWithOneBitFlipped,
    }

    /// <summary>The cached (genuine) configuration one version on, made to say what a forger wants, and signed as <paramref name="forgery"/> says.</summary>
    private SignedGlobalConfiguration Forge(Forgery forgery)
    {
        var genuine = SignedGlobalConfiguration.Parser.ParseFrom(_cached);
        var configuration = GlobalConfiguration.Parser.ParseFrom(genuine.Configuration);
        configuration.Version++;
        switch (forgery)
        {
            case Forgery.SignedByAnotherKey:
                return _rogue.Sign(configuration);
            case Forgery.SignedByAnotherKeyClaimingTheAnchors:
                var claimed = _rogue.Sign(configuration);
                claimed.SignerCertificateSha256 = genuine.SignerCertificateSha256;
                return claimed;
            case Forgery.Unsigned:
                return new SignedGlobalConfiguration { Configuration = configuration.ToByteString(), SignerCertificateSha256 = genuine.SignerCertificateSha256 };
            default:
                var bytes = genuine.Configuration.ToByteArray();
                bytes[bytes.Length / 2] ^= 0x04;
                var flipped = genuine.Clone();
                flipped.Configuration = ByteString.CopyFrom(bytes);
                return flipped;
        }
    }

    /// <summary>Serves GetGlobalConfiguration with the registry's own TLS certificate; returns its address in the registry's form.</summary>
    private async Task<string> StartFakeRegistryAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseBusGrpc(new ServerTlsOptions { ServerCertificate = _bus.Registry.Keys.Tls })));
        builder.Services.AddBusGrpc();
        builder.Services.AddSingleton(new FakeRegistry(() =>
        {
            Interlocked.Increment(ref _polls);
            return _answer;
        }));
        _fakeRegistry = builder.Build();
        _fakeRegistry.MapGrpcService<FakeRegistry>();
        await _fakeRegistry.StartAsync();
        var port = new Uri(_fakeRegistry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        var real = new Uri(_bus.Registry.GrpcAddress);
        return $"{real.Scheme}://{real.Host}:{port}";
    }

    /// <summary>A registry that answers every configuration poll with what the test says.</summary>
    private sealed class FakeRegistry(Func<GetGlobalConfigurationResponse> answer) : RegistryService.RegistryServiceBase
    {
        public override Task<GetGlobalConfigurationResponse> GetGlobalConfiguration(GetGlobalConfigurationRequest request, ServerCallContext context) =>
            Task.FromResult(answer());
    }

    private sealed class Capture(ILogger logger) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}
