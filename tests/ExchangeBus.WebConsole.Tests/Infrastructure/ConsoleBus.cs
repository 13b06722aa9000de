// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Core;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// A small bus for the node consoles' tests, set up only with <c>xbus</c> commands and processes:
/// a registry that approves registrations itself, the Ministry of Transport's node
/// (<see cref="Provider"/>) with the sample licence service behind it, open to the province's
/// one-stop system, and the province's node (<see cref="Client"/>) that system calls through.
/// Both nodes serve their consoles with the same accounts (password <see cref="ConsoleRegistry.Password"/>):
/// <c>admin</c> (system administrator), <c>services</c> (service administrator), <c>security</c>
/// (security officer), <c>auditor</c> (auditor).
/// </summary>
internal sealed class ConsoleBus : IAsyncDisposable
{
    public const string Transport = ConsoleRegistry.Member;
    public const string Province = "VN/GOV/000.00.00.P01";
    public const string CallingSystem = Province + "/one-stop";
    public const string Service = Transport + "/driving-licence/checkLicence/v1";

    public static readonly (string Name, string Role)[] Accounts =
        [("admin", "system-administrator"), ("services", "service-administrator"), ("security", "security-officer"), ("auditor", "auditor")];

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private ConsoleBus(ConsoleRegistry registry, XbusServer backend, ConsoleNode provider, ConsoleNode client)
    {
        Registry = registry;
        Backend = backend;
        Provider = provider;
        Client = client;
    }

    public ConsoleRegistry Registry { get; }

    public XbusServer Backend { get; }

    /// <summary>The Ministry of Transport's node, providing <see cref="Service"/>.</summary>
    public ConsoleNode Provider { get; }

    /// <summary>The province's node, which <see cref="CallingSystem"/> calls through.</summary>
    public ConsoleNode Client { get; }

    public static async Task<ConsoleBus> StartAsync()
    {
        var registry = await ConsoleRegistry.StartAsync(autoApprove: true);
        XbusServer? backend = null;
        ConsoleNode? provider = null;
        try
        {
            var root = registry.Root;
            await Xbus.MustAsync(root, "registry", "member", "add", Province, "--name", "UBND tỉnh Bắc Ninh", "--data", registry.Data);
            await Xbus.MustAsync(root, "registry", "subsystem", "add", Transport + "/driving-licence", "--data", registry.Data);
            await Xbus.MustAsync(root, "registry", "subsystem", "add", CallingSystem, "--data", registry.Data);

            var backendPort = LoopbackPort.PickFree().ToString(CultureInfo.InvariantCulture);
            backend = XbusServer.Start("backend", root, $"http://127.0.0.1:{backendPort}/health/live", "sample-backend", "--port", backendPort);
            await backend.WaitUntilReadyAsync(Patience);

            var joinedProvider = await ConsoleNode.JoinAsync(registry, Transport, "ss-transport", async data =>
            {
                await Xbus.MustAsync(root, "node", "service", "add", Service, "--data", data, "--backend", "http", "--address", $"http://127.0.0.1:{backendPort}/licence", "--timeout-ms", "10000");
                await Xbus.MustAsync(root, "node", "acl", "allow", Service, CallingSystem, "--data", data);
            }, Accounts);
            var joinedClient = await ConsoleNode.JoinAsync(registry, Province, "ss-province",
                data => Xbus.MustAsync(root, "node", "client", "add", CallingSystem, "--data", data), Accounts);
            provider = await joinedProvider.StartAsync();
            var client = await joinedClient.StartAsync();
            return new ConsoleBus(registry, backend, provider, client);
        }
        catch
        {
            if (provider is not null)
            {
                await provider.DisposeAsync();
            }

            if (backend is not null)
            {
                await backend.DisposeAsync();
            }

            await registry.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One call of <see cref="Service"/> by the province's one-stop system about
    /// <paramref name="subject"/>, made with <c>xbus node call</c>: its exit code and output
    /// (a refusal's stable code is in the output).
    /// </summary>
    public Task<XbusResult> CallAsync(string subject) =>
        Xbus.RunAsync(Registry.Root, "call", "--node", Client.LocalAddress, "--client", CallingSystem, "--service", Service,
            "--user-id", "officer-17", "--subject-id", subject, "--issue", "HS-2026-0042", "--payload", $$"""{"licence":"{{subject}}"}""");

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Provider.DisposeAsync();
        await Backend.DisposeAsync();
        await Registry.DisposeAsync();
    }
}
