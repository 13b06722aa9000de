// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>
/// Issue 7: "docs/deploy.md walks a newcomer through a registry and two agency nodes as separate
/// processes ... a test follows that page's commands, so the page cannot drift from the code".
/// Every <c>```sh</c> block of the page runs, in order, as one bash script in an empty folder,
/// with <c>xbus</c> being the built command line and only the page's port numbers swapped for
/// free ones. The registry, two nodes and the sample backend are real processes.
/// </summary>
[NonParallelizable]
public sealed partial class DeployGuideTests
{
    // Every port the page uses; each is replaced by a free one, so the run cannot collide with
    // another test (or a developer's own bus) on this machine.
    private static readonly int[] PagePorts = [4400, 4401, 5500, 5510, 5600, 5601, 5610, 5611, 8080];

    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-deploy-").FullName;

    [TearDown]
    public void TearDown()
    {
        // The script kills what it started even when it fails (its EXIT trap).
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task TheDeployPage_RunAsWritten_JoinsTwoNodes_AnswersTheFirstCall_AndTheFirstAuditQuery()
    {
        var page = await File.ReadAllTextAsync(Path.Combine(RepositoryFolder.Root(), "docs", "deploy.md"));
        var blocks = ShellBlock().Matches(page).Select(m => m.Groups[1].Value).ToList();
        Assert.That(blocks, Has.Count.GreaterThanOrEqualTo(7), "the page's sh blocks");

        // xbus on the PATH as the repository's ./xbus script is: a wrapper that execs dotnet, so
        // `xbus … &` then `$!` is the server's own process id, as the page relies on.
        var bin = Directory.CreateDirectory(Path.Combine(_folder, "bin")).FullName;
        var xbus = Path.Combine(bin, "xbus");
        await File.WriteAllTextAsync(xbus, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "xbus.dll")}' \"$@\"\n");
        File.SetUnixFileMode(xbus, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var script = new StringBuilder()
            .AppendLine("set -euo pipefail")
            .AppendLine($"export PATH='{bin}':\"$PATH\"")
            // Whatever the page started and did not stop is named, then killed.
            .AppendLine("trap 'for f in *.pid; do if [ -e \"$f\" ] && kill -0 \"$(cat \"$f\")\" 2> /dev/null; then echo \"$f\" >> leaked.txt; kill -9 \"$(cat \"$f\")\"; fi; done' EXIT")
            .AppendJoin(Environment.NewLine, blocks)
            .ToString();
        foreach (var port in PagePorts)
        {
            script = Regex.Replace(script, $"(?<![0-9]){port}(?![0-9])", Core.LoopbackPort.PickFree().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var (exit, output) = await RunBashAsync(script);

        Assert.That(exit, Is.Zero, output);
        Assert.That(File.Exists(Path.Combine(_folder, "leaked.txt")) ? await File.ReadAllTextAsync(Path.Combine(_folder, "leaked.txt")) : string.Empty, Is.Empty,
            "processes the page started and did not stop");
        var call = await File.ReadAllTextAsync(Path.Combine(_folder, "call.txt"));
        Assert.That(call, Does.Contain("answered by VN/GOV/000.00.00.G01/ss1"));
        Assert.That(call, Does.Contain("\"holder\":\"VN-CITIZEN-0123456789\"").And.Contain("\"askedBy\":\"VN/GOV/000.00.00.P01/one-stop\""));
        var audit = await File.ReadAllTextAsync(Path.Combine(_folder, "audit.txt"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(_folder, "file-status.txt")), Does.Contain("delivered"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(_folder, "file-receive.txt")), Does.Contain("received file hs-2026-0042-application").And.Contain("acknowledged"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(_folder, "inbox", "hs-2026-0042-application", "application.txt")), Is.EqualTo("Application for a driving licence\n"));
        Assert.That(audit, Does.Contain("ProviderRequest").And.Contain("ProviderResponse").And.Contain("FileManifestReceived").And.Contain("FileReceiptSent").And.Contain("6 record(s)"));
        foreach (var process in new[] { "registry", "transport", "province", "backend" })
        {
            Assert.That(await File.ReadAllTextAsync(Path.Combine(_folder, process + ".log")), Does.Not.Contain("Unhandled exception"), process);
        }
    }

    [Test]
    public async Task NodeServe_ConfigWithAnUnknownKey_IsRefusedWithConfigInvalid_NamingTheKey()
    {
        var config = Path.Combine(_folder, "node.json");
        await File.WriteAllTextAsync(config, """{ "data": "x", "prodution": true }""");

        var result = await XbusProcess.RunAsync("node", "serve", "--config", config);

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain("prodution"));
    }

    [Test]
    public async Task RegistryServe_ConfigWithBadValues_IsRefusedWithEveryProblemNamed()
    {
        var config = Path.Combine(_folder, "registry.json");
        await File.WriteAllTextAsync(config, """{ "shutdownTimeoutSeconds": -1, "refreshCheckSeconds": 0 }""");

        var result = await XbusProcess.RunAsync("registry", "serve", "--config", config);

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain("shutdownTimeoutSeconds").And.Contain("refreshCheckSeconds"));
    }

    [TestCase("""{ "messageLog": { "synchronous": "Sometimes" } }""", "messageLog.synchronous")]
    [TestCase("""{ "messageLog": { "maxBatchSize": 0 } }""", "messageLog: MaxBatchSize")]
    [TestCase("""{ "peerListen": 5500 }""", "peerListen")]
    [TestCase("""{ "files": { "freeReserveBytes": -1 } }""", "files.freeReserveBytes must not be negative")]
    [TestCase("""{ "files": { "stalePartHours": 0 } }""", "files.stalePartHours must be more than 0")]
    [TestCase("""{ "peerLimits": { "idleTimeout": 5 } }""", "idleTimeout")]
    [TestCase("""{ "peerLimits": { "keepAliveTimeoutSeconds": 0 } }""", "peerLimits.keepAliveTimeoutSeconds")]
    [TestCase("""{ "peerLimits": { "minRequestBodyGraceSeconds": 1 } }""", "peerLimits.minRequestBodyGraceSeconds")]
    [TestCase("""{ "peerLimits": { "maxStreamsPerConnection": 0 } }""", "peerLimits.maxStreamsPerConnection")]
    [TestCase("""{ "peerLimits": { "minRequestBodyBytesPerSecond": "fast" } }""", "minRequestBodyBytesPerSecond")]
    public async Task NodeServe_ConfigWithABadValue_IsRefusedNamingIt(string json, string named)
    {
        var config = Path.Combine(_folder, "node.json");
        await File.WriteAllTextAsync(config, json);

        var result = await XbusProcess.RunAsync("node", "serve", "--config", config);

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain(named));
    }

    [Test]
    public async Task RegistryInit_ParametersThatNodesWouldRefuse_AreRefused_AndNoRegistryIsMade()
    {
        var parameters = Path.Combine(_folder, "parameters.json");
        await File.WriteAllTextAsync(parameters, """{ "refreshIntervalSeconds": 60, "validitySeconds": 90 }""");
        var data = Path.Combine(_folder, "registry");

        var result = await XbusProcess.RunAsync("registry", "init", "--data", data, "--instance", "VN", "--parameters", parameters);

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain("validity must be at least twice the refresh interval"));
        Assert.That(Directory.Exists(data), Is.False, "nothing half-made");
    }

    [Test]
    public async Task RegistryInit_WithParameters_PublishesThem()
    {
        var parameters = Path.Combine(_folder, "parameters.json");
        await File.WriteAllTextAsync(parameters, """{ "validitySeconds": 1200, "timeStampingMaxBatch": 5000 }""");
        var data = Path.Combine(_folder, "registry");

        var result = await XbusProcess.RunAsync("registry", "init", "--data", data, "--instance", "VN", "--parameters", parameters);

        Assert.That(result.Exit, Is.Zero, result.ToString());
        using var keys = Registry.Storage.RegistryKeys.Load(Path.Combine(data, Registry.Storage.RegistryKeys.Folder), TimeProvider.System);
        var store = new Registry.Storage.RegistryStore(Registry.Storage.RegistryDatabase.Open(data), keys, TimeProvider.System);
        Assert.That(store.Parameters(), Is.EqualTo(new Registry.Storage.ConfigurationParameters { ValiditySeconds = 1200, TimeStampingMaxBatch = 5000 }));
    }

    private async Task<(int Exit, string Output)> RunBashAsync(string script)
    {
        var path = Path.Combine(_folder, "deploy-page.sh");
        await File.WriteAllTextAsync(path, script);
        var info = new ProcessStartInfo("bash", [path]) { WorkingDirectory = _folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await error);
    }

    [GeneratedRegex("^```sh\\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ShellBlock();
}
