// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Cli.Internal;
using ExchangeBus.Cli.Node;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Registry.Hosting;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>
/// The serve commands' settings (docs/deploy.md, "Settings"): the file, then the flags, bound
/// into the servers' options by the configuration binder and checked by their validators. The
/// environment's part is in <see cref="ServeEnvironmentTests"/>, on real processes.
/// </summary>
public sealed class ServeConfigurationTests
{
    private string _folder = null!;

    [SetUp]
    public void SetUp() => _folder = Directory.CreateTempSubdirectory("xbus-config-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void FileKeys_AreBoundIntoTheNodesOptions_InTheirDocumentedUnits()
    {
        var options = Node("""
            {
              // Comments and trailing commas, as before.
              "data": "n1", "peerListen": "127.0.0.1:7000", "production": true, "localTlsListen": "127.0.0.1:7001",
              "shutdownTimeoutSeconds": 12, "settingsPollSeconds": 0.5,
              "files": { "retryMilliseconds": 500, "parallelDeliveries": 2, "freeReserveBytes": 0, "stalePartHours": 1, "keepContentDays": 3 },
              "messageLog": { "synchronous": "Normal", "maxBatchSize": 10 },
              "peerLimits": { "idleTimeoutSeconds": 1, "maxStreamsPerConnection": 7 },
            }
            """);

        Assert.That(options.DataDirectory, Is.EqualTo("n1"));
        Assert.That(options.PeerListen, Is.EqualTo("127.0.0.1:7000"));
        Assert.That(options.Production, Is.True);
        Assert.That(options.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(12)));
        Assert.That(options.SettingsPollInterval, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
        Assert.That(options.Files.RetryBaseDelay, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
        Assert.That(options.Files.MaxParallelDeliveries, Is.EqualTo(2));
        Assert.That(options.Files.FreeSpaceReserveBytes, Is.Zero);
        Assert.That(options.Files.StalePartAge, Is.EqualTo(TimeSpan.FromHours(1)));
        Assert.That(options.Files.KeepContent, Is.EqualTo(TimeSpan.FromDays(3)));
        Assert.That(options.MessageLog.Synchronous, Is.EqualTo(MessageLogSynchronous.Normal));
        Assert.That(options.MessageLog.MaxBatchSize, Is.EqualTo(10));
        Assert.That(options.PeerLimits.IdleTimeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(options.PeerLimits.MaxStreamsPerConnection, Is.EqualTo(7));
    }

    [Test]
    public void KeysTheFileLeavesOut_KeepTheOptionsDefaults_AndDevelopmentBringsThePlaintextListener()
    {
        var options = Node("""{ "development": true }""");

        Assert.That(options, Is.EqualTo(new NodeServerOptions { DataDirectory = "node-data", Development = true, LocalListen = NodeServerOptions.DevelopmentLocalListen }));
    }

    [Test]
    public void WithoutDevelopment_NoPlaintextListener_AndTheTlsOneIsRequired()
    {
        Assert.That(Node("""{ "localTlsListen": "127.0.0.1:7001" }""").LocalListen, Is.Null);
        Assert.That(Assert.Throws<CliException>(() => Node("{}"))!.Message, Does.Contain("needs a local listener").And.Contain("development"));
    }

    [Test]
    public void AFlagGiven_WinsOverTheFile()
    {
        var options = Node(
            """{ "development": true, "peerListen": "127.0.0.1:7000", "metricsListen": "127.0.0.1:7002", "files": { "maxAttempts": 3 } }""",
            ("PeerListen", "127.0.0.1:7100"), ("Files:MaxAttempts", "9"));

        Assert.That(options.PeerListen, Is.EqualTo("127.0.0.1:7100"));
        Assert.That(options.MetricsListen, Is.EqualTo("127.0.0.1:7002"), "the file's, where no flag is given");
        Assert.That(options.Files.MaxAttempts, Is.EqualTo(9));
    }

    [TestCase("""{ "prodution": true }""", "prodution")]
    [TestCase("""{ "files": { "maxAtempts": 3 } }""", "maxAtempts")]
    [TestCase("""{ "peerLimits": { "idleTimeoutSecs": 3 } }""", "idleTimeoutSecs")]
    [TestCase("""{ "messageLog": { "synchronous": "Sometimes" } }""", "messageLog.synchronous")]
    public void AnUnknownKeyOrAValueOfTheWrongType_IsRefusedWithConfigInvalid_NamingIt(string json, string named)
    {
        var ex = Assert.Throws<CliException>(() => Node(json));

        Assert.That(ex!.Code, Is.EqualTo(ServeConfiguration.ErrorCode));
        Assert.That(ex.Message, Does.Contain(named));
    }

    [Test]
    public void BadValues_AreAllReportedAtOnce()
    {
        var ex = Assert.Throws<CliException>(() => Node("""
            { "peerListen": "nowhere", "shutdownTimeoutSeconds": -1, "settingsPollSeconds": 0,
              "files": { "freeReserveBytes": -1 }, "messageLog": { "maxBatchSize": 0 }, "peerLimits": { "minRequestBodyGraceSeconds": 1 } }
            """));

        Assert.That(ex!.Code, Is.EqualTo(ServeConfiguration.ErrorCode));
        Assert.That(ex.Message, Does.Contain("peerListen 'nowhere'")
            .And.Contain("shutdownTimeoutSeconds").And.Contain("settingsPollSeconds")
            .And.Contain("files.freeReserveBytes must not be negative").And.Contain("messageLog: MaxBatchSize")
            .And.Contain("peerLimits.minRequestBodyGraceSeconds"));
    }

    [Test]
    public void ANumberOfSecondsNoTimeSpanHolds_IsReportedUnderItsKey()
    {
        var ex = Assert.Throws<CliException>(() => Node("""{ "peerLimits": { "handshakeTimeoutSeconds": 1e300 } }"""));

        Assert.That(ex!.Message, Does.Contain("peerLimits.handshakeTimeoutSeconds must be between 1 and 300 seconds"));
    }

    [Test]
    public void JsonLogs_IsTheCommandsOwnKey_NotRefusedByTheOptions()
    {
        using var configuration = ServeConfiguration.Build(Write("""{ "jsonLogs": true, "localTlsListen": "127.0.0.1:7001" }"""), []);

        Assert.That(ServeConfiguration.JsonLogsOf(configuration), Is.True);
        Assert.DoesNotThrow(() => ServeConfiguration.Bind(configuration, new NodeServerOptions { DataDirectory = "d" }, new NodeServerOptionsValidator()));
    }

    [Test]
    public void TheRegistrysKeys_AreBoundUnderTheirDocumentedNames()
    {
        using var configuration = ServeConfiguration.Build(
            Write("""{ "data": "r", "listen": "127.0.0.1:7400", "httpListen": "127.0.0.1:7401", "refreshCheckSeconds": 1, "publicGrpcAddress": "https://registry.example:443" }"""),
            [new("HttpListen", "127.0.0.1:7501")]);

        var options = ServeConfiguration.Bind(configuration, new RegistryServerOptions { DataDirectory = "registry-data" }, new RegistryServerOptionsValidator());

        Assert.That(options.DataDirectory, Is.EqualTo("r"));
        Assert.That(options.GrpcListen, Is.EqualTo("127.0.0.1:7400"));
        Assert.That(options.HttpListen, Is.EqualTo("127.0.0.1:7501"));
        Assert.That(options.RefreshCheckInterval, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(options.PublicGrpcAddress, Is.EqualTo("https://registry.example:443"));
    }

    [Test]
    public void TheRegistrysBadValues_AreAllReportedAtOnce()
    {
        using var configuration = ServeConfiguration.Build(Write("""{ "shutdownTimeoutSeconds": -1, "refreshCheckSeconds": 0, "listen": "x" }"""), []);

        var ex = Assert.Throws<CliException>(() => ServeConfiguration.Bind(configuration, new RegistryServerOptions { DataDirectory = "r" }, new RegistryServerOptionsValidator()));

        Assert.That(ex!.Message, Does.Contain("shutdownTimeoutSeconds").And.Contain("refreshCheckSeconds").And.Contain("listen 'x'"));
    }

    [Test]
    public void AFileThatIsNotJson_IsRefusedWithConfigInvalid()
    {
        var ex = Assert.Throws<CliException>(() => ServeConfiguration.Build(Write("""{ "data": """), []));

        Assert.That(ex!.Code, Is.EqualTo(ServeConfiguration.ErrorCode));
    }

    private NodeServerOptions Node(string json, params (string Key, string Value)[] flags)
    {
        using var configuration = ServeConfiguration.Build(Write(json), flags.Select(f => new KeyValuePair<string, string?>(f.Key, f.Value)));
        return ServeConfiguration.Bind(configuration, new NodeServerOptions { DataDirectory = "node-data" }, new NodeServerOptionsValidator(), bound => NodeCommands.SettleLocalListener(configuration, bound));
    }

    private string Write(string json)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }
}
