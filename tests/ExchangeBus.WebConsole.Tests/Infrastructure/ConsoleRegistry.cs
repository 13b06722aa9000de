// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Core;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// A real registry as an operator sets one up: <c>xbus registry init</c>, console accounts made
/// with <c>xbus registry user add</c> (password on standard input), <c>xbus registry serve</c>
/// with the console listener on, a member class and member for nodes to register under.
/// </summary>
internal sealed class ConsoleRegistry : IAsyncDisposable
{
    public const string Member = "VN/GOV/000.00.00.G01";
    public const string Password = "correct horse battery staple";

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private ConsoleRegistry(string root, XbusServer server, string consoleAddress, string anchor)
    {
        Root = root;
        Server = server;
        ConsoleAddress = consoleAddress;
        Anchor = anchor;
    }

    public string Root { get; }

    public string Data => Path.Combine(Root, "registry");

    public string ConsoleAddress { get; }

    public string Anchor { get; }

    public XbusServer Server { get; }

    /// <summary>Starts a registry with one account per name, each with its role (X-Road's names).</summary>
    public static Task<ConsoleRegistry> StartAsync(params (string Name, string Role)[] accounts) =>
        StartAsync(new Dictionary<string, object>(), autoApprove: false, accounts);

    /// <summary>Starts a registry that approves node registrations by itself when <paramref name="autoApprove"/> (for tests of a node's console).</summary>
    public static Task<ConsoleRegistry> StartAsync(bool autoApprove, params (string Name, string Role)[] accounts) =>
        StartAsync(new Dictionary<string, object>(), autoApprove, accounts);

    /// <summary>
    /// The console settings of a test registry: <paramref name="console"/> with its listener and,
    /// unless the test sets its own, a login budget that a fixture's tests cannot spend. Every
    /// test signs in from 127.0.0.1, and a fixture's dozen sign-ins in under a minute passed the
    /// default 10 a minute on a fast run (the 13th answered 429, so the page never came), while on
    /// a slow one the bucket refilled in time: a failure that depended on the machine's speed.
    /// ConsoleLoginSafetyTests sets the limits it tests.
    /// </summary>
    private static Dictionary<string, object> WithTestLoginBudget(IReadOnlyDictionary<string, object> console, string listen)
    {
        var settings = new Dictionary<string, object>(console) { ["listen"] = listen };
        settings.TryAdd("loginAttemptsPerMinute", 1_000);
        settings.TryAdd("loginAttemptsPerMinuteTotal", 1_000);
        return settings;
    }

    /// <summary>Starts a registry with <paramref name="console"/> added to its <c>console</c> settings (its listener is always set here).</summary>
    public static async Task<ConsoleRegistry> StartAsync(IReadOnlyDictionary<string, object> console, bool autoApprove, params (string Name, string Role)[] accounts)
    {
        var root = Directory.CreateTempSubdirectory("xbus-console-").FullName;
        var data = Path.Combine(root, "registry");
        await Xbus.MustAsync(root, ["registry", "init", "--data", data, "--instance", "VN", .. autoApprove ? new[] { "--auto-approve" } : []]);
        foreach (var (name, role) in accounts)
        {
            await Xbus.MustWithInputAsync(root, Password, "registry", "user", "add", name, "--role", role, "--data", data);
        }

        var (grpc, http, consolePort) = (LoopbackPort.PickFree(), LoopbackPort.PickFree(), LoopbackPort.PickFree());
        var config = Path.Combine(root, "registry.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            data,
            listen = Loopback(grpc),
            httpListen = Loopback(http),
            console = WithTestLoginBudget(console, Loopback(consolePort)),
        }));
        var server = XbusServer.Start("registry", root, $"http://{Loopback(http)}/health/ready", "registry", "serve", "--config", config);
        await server.WaitUntilReadyAsync(Patience);
        await Xbus.MustAsync(root, "registry", "member-class", "add", "GOV", "--data", data);
        await Xbus.MustAsync(root, "registry", "member", "add", Member, "--name", "Bộ Giao thông vận tải", "--data", data);
        var anchor = Path.Combine(root, "anchor.json");
        await Xbus.MustAsync(root, "registry", "anchor", "export", "--data", data, "--out", anchor);
        return new ConsoleRegistry(root, server, $"https://{Loopback(consolePort)}", anchor);
    }

    /// <summary>Makes a node's keys and sends its registration (pending: this registry does not auto-approve); returns the node's data folder.</summary>
    public async Task<string> RegisterNodeAsync(string nodeCode)
    {
        var folder = Path.Combine(Root, nodeCode);
        await Xbus.MustAsync(Root, "node", "init", "--data", folder, "--anchor", Anchor, "--node", $"{Member}/{nodeCode}", "--address", Loopback(LoopbackPort.PickFree()));
        return folder;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by the dying process: the temp folder is cleaned some other day.
        }
    }

    private static string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
}
