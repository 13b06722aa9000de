// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Core;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// A real node as an agency's operator sets one up, joined to a <see cref="ConsoleRegistry"/>
/// made with auto-approval: <c>xbus node init</c>, <c>xbus node register</c>, console accounts
/// made with <c>xbus node user add</c> (password on standard input), then <c>xbus node serve</c>
/// with the console listener on. The accounts' password is <see cref="ConsoleRegistry.Password"/>.
/// </summary>
internal sealed class ConsoleNode : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private ConsoleNode(string data, string node, XbusServer server, Endpoints endpoints)
    {
        Data = data;
        Node = node;
        Server = server;
        ConsoleAddress = endpoints.Console!;
        LocalAddress = endpoints.Local!;
        PeerAddress = endpoints.Peer!;
    }

    public string Data { get; }

    /// <summary>The node's identifier, INSTANCE/CLASS/MEMBER/CODE.</summary>
    public string Node { get; }

    public XbusServer Server { get; }

    public string ConsoleAddress { get; }

    /// <summary>The plaintext (development) local gRPC listener, http://host:port.</summary>
    public string LocalAddress { get; }

    public string PeerAddress { get; }

    /// <summary>
    /// Makes and starts node <paramref name="nodeCode"/> of <see cref="ConsoleRegistry.Member"/>
    /// with one account per name (X-Road's role names). The registry must approve by itself
    /// (a <see cref="ConsoleRegistry"/> started with auto-approval).
    /// </summary>
    public static async Task<ConsoleNode> StartAsync(ConsoleRegistry registry, string nodeCode, params (string Name, string Role)[] accounts) =>
        await (await JoinAsync(registry, ConsoleRegistry.Member, nodeCode, _ => Task.CompletedTask, accounts)).StartAsync();

    /// <summary>
    /// Makes node <paramref name="nodeCode"/> of <paramref name="member"/> and has it join;
    /// <paramref name="prepare"/> is given the data folder after it joined, to add clients,
    /// services and access rules with <c>xbus node</c> commands. Start it with
    /// <see cref="Joined.StartAsync"/> once every node of the bus has joined, so that each reads a
    /// configuration listing the others at its start.
    /// </summary>
    public static async Task<Joined> JoinAsync(
        ConsoleRegistry registry, string member, string nodeCode, Func<string, Task> prepare, params (string Name, string Role)[] accounts)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(prepare);
        var data = Path.Combine(registry.Root, nodeCode);
        var (peer, metrics, local, console) = (LoopbackPort.PickFree(), LoopbackPort.PickFree(), LoopbackPort.PickFree(), LoopbackPort.PickFree());
        var node = $"{member}/{nodeCode}";
        await Xbus.MustAsync(registry.Root, "node", "init", "--data", data, "--anchor", registry.Anchor, "--node", node, "--address", Loopback(peer));
        await Xbus.MustAsync(registry.Root, "node", "register", "--data", data);
        await prepare(data);
        foreach (var (name, role) in accounts)
        {
            await Xbus.MustWithInputAsync(registry.Root, ConsoleRegistry.Password, "node", "user", "add", name, "--role", role, "--data", data);
        }

        var config = Path.Combine(registry.Root, nodeCode + ".json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            data,
            peerListen = Loopback(peer),
            metricsListen = Loopback(metrics),
            development = true,
            localListen = Loopback(local),
            // The login budget as ConsoleRegistry gives its consoles (WithTestLoginBudget says why).
            console = new { listen = Loopback(console), loginAttemptsPerMinute = 1_000, loginAttemptsPerMinuteTotal = 1_000 },
        }));
        return new Joined(registry.Root, data, node, nodeCode, config, $"http://{Loopback(metrics)}/health/ready");
    }

    /// <summary>A node that has joined the bus and has its settings file, not yet started.</summary>
    internal sealed record Joined(string Root, string Data, string Node, string Name, string Config, string ReadyUrl)
    {
        public async Task<ConsoleNode> StartAsync()
        {
            var server = XbusServer.Start(Name, Root, ReadyUrl, "node", "serve", "--config", Config);
            try
            {
                await server.WaitUntilReadyAsync(Patience);
                var endpoints = JsonSerializer.Deserialize<Endpoints>(
                    await File.ReadAllTextAsync(Path.Combine(Data, "endpoints.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
                return new ConsoleNode(Data, Node, server, endpoints);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private static string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    private sealed record Endpoints(string? Peer, string? Local, string? Console);
}
