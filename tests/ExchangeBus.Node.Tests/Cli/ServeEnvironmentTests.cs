// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Tests.Cli;

/// <summary>
/// XBUS_ environment variables as serve settings, on real <c>xbus</c> processes (the variables a
/// process starts with): between the file and the flags, unknown ones refused like a file's.
/// Each run stops at the settings check, before the data folder is looked at; which source won
/// shows in the refused value the error names.
/// </summary>
[NonParallelizable]
public sealed class ServeEnvironmentTests
{
    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-env-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task AnEnvironmentVariable_WinsOverTheFile_AndAFlagOverBoth()
    {
        var config = await WriteAsync("""{ "peerListen": "from-file" }""");
        var environment = new Dictionary<string, string> { ["XBUS_PeerListen"] = "from-environment" };

        var overFile = await XbusProcess.RunAsync(environment, "node", "serve", "--config", config);
        var overBoth = await XbusProcess.RunAsync(environment, "node", "serve", "--config", config, "--peer-listen", "from-flag");

        Assert.That(overFile.Error, Does.StartWith("error Config.Invalid:").And.Contain("'from-environment'").And.Not.Contain("from-file"), overFile.ToString());
        Assert.That(overBoth.Error, Does.StartWith("error Config.Invalid:").And.Contain("'from-flag'").And.Not.Contain("from-environment"), overBoth.ToString());
    }

    [Test]
    public async Task ANestedKey_IsGivenWithADoubleUnderscore()
    {
        var result = await XbusProcess.RunAsync(new Dictionary<string, string> { ["XBUS_Files__MaxAttempts"] = "0", ["XBUS_PEERLIMITS__IDLETIMEOUTSECONDS"] = "0" }, "node", "serve");

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain("files.maxAttempts must be at least 1").And.Contain("peerLimits.idleTimeoutSeconds"));
    }

    /// <summary>
    /// Secure by default (issue 15, item 11): the plaintext local listener, where any local process
    /// may claim any subsystem, only with the development switch; a node given neither it nor a
    /// local TLS listener refuses to start, saying how to do either.
    /// </summary>
    [TestCase("no local listener named", new string[0], "development")]
    [TestCase("a plaintext listener named", new[] { "--local-listen", "127.0.0.1:1" }, "localListen")]
    [TestCase("development and production", new[] { "--development", "--production" }, "production")]
    public async Task WithoutTheDevelopmentSwitch_NoPlaintextLocalListener_TheNodeRefusesToStart(string what, string[] flags, string named)
    {
        var result = await XbusProcess.RunAsync(new Dictionary<string, string>(), ["node", "serve", "--data", _folder, .. flags]);

        Assert.That(result.Exit, Is.EqualTo(2), what + ": " + result);
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain("development").And.Contain(named), what);
    }

    [TestCase("node", "XBUS_PRODUTION")]
    [TestCase("node", "XBUS_Files__MaxAtempts")]
    [TestCase("registry", "XBUS_PeerListen")]
    public async Task AnUnknownVariable_IsRefusedWithConfigInvalid_NamingIt(string component, string variable)
    {
        var result = await XbusProcess.RunAsync(new Dictionary<string, string> { [variable] = "1" }, component, "serve");

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith("error Config.Invalid:").And.Contain(variable[5..].Split("__")[^1]));
    }

    private async Task<string> WriteAsync(string json)
    {
        var path = Path.Combine(_folder, "serve.json");
        await File.WriteAllTextAsync(path, json);
        return path;
    }
}
