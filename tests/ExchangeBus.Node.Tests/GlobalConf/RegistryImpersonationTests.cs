// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Text.RegularExpressions;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Node.Tests.GlobalConf;

/// <summary>
/// Issue 15, item 8: a node's operator poses as the registry. Its authentication certificate
/// chains to the bus's root, carries serverAuth and names the host it registered (127.0.0.1
/// here, as the registry's), so a server on a real socket presenting it passes a check on the
/// chain alone. Nodes and administrators pin the registry's own TLS certificate and refuse it
/// before a byte of a call is sent.
/// </summary>
[NonParallelizable]
public sealed class RegistryImpersonationTests
{
    [Test]
    public async Task ANodesCertificateAtTheRegistrysAddress_RefusedByNodesAndAdministrators_BeforeAnyCall()
    {
        await using var bus = await BusFixture.PrepareAsync();
        using var impostorKeys = NodeKeys.Load(bus.ProviderData[0].Paths);
        var calls = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseBusGrpc(new ServerTlsOptions { ServerCertificate = impostorKeys.Authentication })));
        builder.Services.AddBusGrpc();
        builder.Services.AddSingleton(new Impostor(() => Interlocked.Increment(ref calls)));
        await using var impostor = builder.Build();
        impostor.MapGrpcService<Impostor>();
        await impostor.StartAsync();
        var port = new Uri(impostor.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        var address = $"https://127.0.0.1:{port}";

        // The client node's anchor, genuine but for the registry's address, where the impostor answers.
        var anchorPath = bus.ClientData.Paths.Anchor;
        var json = await File.ReadAllTextAsync(anchorPath);
        await File.WriteAllTextAsync(anchorPath, Regex.Replace(json, "\"registryAddress\": \"[^\"]*\"", $"\"registryAddress\": \"{address}\""));
        var anchor = Core.GlobalConf.ConfigurationAnchor.Read(anchorPath);
        using (var provider = new GlobalConfigurationProvider(anchor, bus.ClientData.Paths, TimeProvider.System, NullLogger<GlobalConfigurationProvider>.Instance))
        {
            var node = await Assert.ThrowsAsync<RpcException>(() => provider.RefreshAsync(CancellationToken.None));
            Assert.That(node!.StatusCode, Is.EqualTo(StatusCode.Unavailable), node.Status.Detail);
        }

        using (var admin = AdministratorChannel.Open(address, Path.Combine(bus.Root, "registry", RegistryKeys.Folder), TimeProvider.System))
        {
            var administrator = await Assert.ThrowsAsync<RpcException>(() => new RegistryManagement.RegistryManagementClient(admin).ListMembersAsync(new ListMembersRequest()).ResponseAsync);
            Assert.That(administrator!.StatusCode, Is.EqualTo(StatusCode.Unavailable), administrator.Status.Detail);
        }

        Assert.That(calls, Is.Zero, "no call reached the impostor");
        await impostor.StopAsync();
    }

    [Test]
    public async Task AnAnchorWrittenBeforeThePin_IsRefusedSayingWhatToDo()
    {
        var folder = Directory.CreateTempSubdirectory("xbus-anchor-").FullName;
        try
        {
            var keys = Path.Combine(folder, "keys");
            new Core.Pki.DevelopmentPki(TimeProvider.System).Create(new Core.Pki.DevelopmentPkiOptions { OutputDirectory = keys, Instance = "VN" });
            using var registry = RegistryKeys.Load(keys, TimeProvider.System);
            var paths = new NodePaths(Path.Combine(folder, "node"));
            var old = Core.GlobalConf.ConfigurationAnchor.Create("VN", "https://127.0.0.1:4400", [registry.ConfigurationSigning], [registry.RootCertificate], DateTimeOffset.UtcNow);
            old.Write(Path.Combine(folder, "anchor.json"));

            var ex = await Assert.ThrowsAsync<Core.GlobalConf.ConfigurationAnchorException>(() => NodeEnrollment.InitAsync(
                paths, Path.Combine(folder, "anchor.json"), Core.Identifiers.NodeId.Parse("VN/GOV/000.00.00.G01/ss1"), "127.0.0.1:5500", TimeProvider.System, CancellationToken.None));

            Assert.That(ex!.Code, Is.EqualTo(Core.GlobalConf.GlobalConfErrors.AnchorRegistryCertificateMissing));
            Assert.That(ex.Message, Does.Contain("xbus registry anchor export"));
            Assert.That(File.Exists(paths.Settings), Is.False, "nothing was set up with it");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Answers every configuration poll and every management call, counting them.</summary>
    private sealed class Impostor(Action called) : RegistryService.RegistryServiceBase
    {
        public override Task<GetGlobalConfigurationResponse> GetGlobalConfiguration(GetGlobalConfigurationRequest request, ServerCallContext context)
        {
            called();
            return Task.FromResult(new GetGlobalConfigurationResponse { NotModified = true });
        }
    }
}
