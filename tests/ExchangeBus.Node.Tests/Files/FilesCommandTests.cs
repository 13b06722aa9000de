// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>`xbus files …` run as an agency's operator would, as a real process, against two real nodes.</summary>
[NonParallelizable]
public sealed class FilesCommandTests
{
    private BusFixture _bus = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync();
        _work = Directory.CreateTempSubdirectory("xbus-files-cli-").FullName;
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _bus.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public async Task SendStatusReceiveList_ThroughTheCommandLine()
    {
        var content = FileSyncSupport.RandomContent(2_500_000);
        var path = Path.Combine(_work, "birth-certificate.pdf");
        await File.WriteAllBytesAsync(path, content);

        var sent = await XbusProcess.RunAsync("files", "send", path, "--node", _bus.ClientNode.LocalAddress, "--client", BusFixture.ClientSubsystem,
            "--to", BusFixture.ProviderSubsystem, "--file-id", "cli-1", "--dossier", "dossier-cli", "--content-type", "application/pdf");
        Assert.That(sent.Exit, Is.Zero, sent.ToString());
        Assert.That(sent.Output, Does.StartWith("accepted file cli-1: 2500000 bytes"));

        using (var local = _bus.LocalChannel())
        {
            Assert.That((await FileSyncSupport.SettledAsync(local, "cli-1")).State, Is.EqualTo(DeliveryState.Delivered));
        }

        var status = await XbusProcess.RunAsync("files", "status", "--node", _bus.ClientNode.LocalAddress, "--client", BusFixture.ClientSubsystem, "--file-id", "cli-1");
        Assert.That(status.Exit, Is.Zero, status.ToString());
        Assert.That(status.Output, Does.Contain($"{BusFixture.ProviderSubsystem}  delivered"));

        var inbox = Path.Combine(_work, "inbox");
        var received = await XbusProcess.RunAsync("files", "receive", "--node", _bus.ProviderNode.LocalAddress, "--recipient", BusFixture.ProviderSubsystem, "--out", inbox, "--ack");
        Assert.That(received.Exit, Is.Zero, received.ToString());
        Assert.That(received.Output, Does.Contain("received file cli-1").And.Contain("acknowledged"));
        Assert.That(await File.ReadAllBytesAsync(Path.Combine(inbox, "cli-1", "birth-certificate.pdf")), Is.EqualTo(content));

        var again = await XbusProcess.RunAsync("files", "receive", "--node", _bus.ProviderNode.LocalAddress, "--recipient", BusFixture.ProviderSubsystem, "--out", inbox);
        Assert.That(again.Output, Does.Not.Contain("cli-1"), "acknowledged files do not come again");

        var list = await XbusProcess.RunAsync("files", "list", "--node", _bus.ProviderNode.LocalAddress, "--client", BusFixture.ProviderSubsystem, "--dossier", "dossier-cli");
        Assert.That(list.Exit, Is.Zero, list.ToString());
        Assert.That(list.Output, Does.Contain("received").And.Contain("acknowledged").And.Contain("cli-1"));
    }

    [Test]
    public async Task List_WalksEveryPage_AndALimitSaysWhatFollows()
    {
        using (var local = _bus.LocalChannel())
        {
            for (var i = 0; i < 3; i++)
            {
                var content = FileSyncSupport.RandomContent(500 + i);
                await FileSyncSupport.SendAsync(local, FileSyncSupport.Metadata($"cli-page-{i}", content, dossier: "dossier-pages", version: (uint)i + 1), content);
            }
        }

        string[] Listed(string output) => [.. output.Split('\n').Where(l => l.Contains("cli-page-", StringComparison.Ordinal)).Select(l => System.Text.RegularExpressions.Regex.Match(l, "cli-page-[0-9]").Value)];
        string[] Common(params string[] more) => ["files", "list", "--node", _bus.ClientNode.LocalAddress, "--client", BusFixture.ClientSubsystem, "--dossier", "dossier-pages", .. more];

        // One file a page: all three, and nothing saying more follow.
        var all = await XbusProcess.RunAsync(Common("--page-size", "1"));
        Assert.That(all.Exit, Is.Zero, all.ToString());
        Assert.That(Listed(all.Output), Is.EqualTo(new[] { "cli-page-0", "cli-page-1", "cli-page-2" }), all.Output);
        Assert.That(all.Output, Does.Not.Contain("more files follow"));

        // Stopped by --limit: the last line says more follow, and its token continues the listing.
        var limited = await XbusProcess.RunAsync(Common("--limit", "2"));
        Assert.That(limited.Exit, Is.Zero, limited.ToString());
        Assert.That(Listed(limited.Output), Is.EqualTo(new[] { "cli-page-0", "cli-page-1" }), limited.Output);
        var token = limited.Output.Split('\n').Single(l => l.StartsWith("more files follow: --page-token ", StringComparison.Ordinal))["more files follow: --page-token ".Length..].Trim();
        var rest = await XbusProcess.RunAsync(Common("--page-token", token));
        Assert.That(rest.Exit, Is.Zero, rest.ToString());
        Assert.That(Listed(rest.Output), Is.EqualTo(new[] { "cli-page-2" }), rest.Output);
        Assert.That(rest.Output, Does.Not.Contain("more files follow"));

        var json = await XbusProcess.RunAsync(Common("--limit", "1", "--json"));
        Assert.That(json.Exit, Is.Zero, json.ToString());
        var parsed = Google.Protobuf.JsonParser.Default.Parse<ListResponse>(json.Output);
        Assert.That(parsed.Files.Select(f => f.Metadata.FileId), Is.EqualTo(new[] { "cli-page-0" }));
        Assert.That(parsed.NextPageToken, Is.Not.Empty, "JSON says more follow too");
    }

    [Test]
    public async Task Send_ToAnUnknownRecipient_PrintsTheStableCode()
    {
        var path = Path.Combine(_work, "note.txt");
        await File.WriteAllTextAsync(path, "hello");

        var result = await XbusProcess.RunAsync("files", "send", path, "--node", _bus.ClientNode.LocalAddress, "--client", BusFixture.ClientSubsystem,
            "--to", BusFixture.Provider + "/nosuch", "--file-id", "cli-2");

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.StartWith($"error {FileErrors.UnknownRecipient}:"));
    }

    [Test]
    public async Task Receive_NeverOverwritesADifferentFileAtThePath_AndLeavesTheFilePending()
    {
        var content = FileSyncSupport.RandomContent(300_000);
        using (var local = _bus.LocalChannel())
        {
            await FileSyncSupport.SendAsync(local, FileSyncSupport.Metadata("cli-clash", content, name: "same-name.pdf"), content);
            Assert.That((await FileSyncSupport.SettledAsync(local, "cli-clash")).State, Is.EqualTo(DeliveryState.Delivered));
        }

        // Another sender's file with the same id and name, saved here earlier.
        var inbox = Path.Combine(_work, "clash-inbox");
        var existing = Path.Combine(inbox, "cli-clash", "same-name.pdf");
        Directory.CreateDirectory(Path.GetDirectoryName(existing)!);
        await File.WriteAllTextAsync(existing, "another sender's file");

        var refused = await XbusProcess.RunAsync("files", "receive", "--node", _bus.ProviderNode.LocalAddress, "--recipient", BusFixture.ProviderSubsystem, "--out", inbox, "--ack");

        Assert.That(refused.Exit, Is.EqualTo(2), refused.ToString());
        Assert.That(refused.Error, Does.StartWith("error Cli.Files.TargetExists:"));
        Assert.That(await File.ReadAllTextAsync(existing), Is.EqualTo("another sender's file"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(existing)!), Is.EqualTo(new[] { existing }), "no partial copy left beside it");

        // Still pending, not acknowledged; with the same bytes at the path it counts as saved.
        await File.WriteAllBytesAsync(existing, content);
        var saved = await XbusProcess.RunAsync("files", "receive", "--node", _bus.ProviderNode.LocalAddress, "--recipient", BusFixture.ProviderSubsystem, "--out", inbox, "--ack");
        Assert.That(saved.Exit, Is.Zero, saved.ToString());
        Assert.That(saved.Output, Does.Contain("received file cli-clash").And.Contain("acknowledged"));
        Assert.That(await File.ReadAllBytesAsync(existing), Is.EqualTo(content));
    }

    [Test]
    public async Task ReceiveFollow_SavesEachNewFileAsItArrives_AndStopsCleanlyOnSigterm()
    {
        var inbox = Path.Combine(_work, "follow-inbox");
        await using var follower = XbusServer.Start("receive-follow", _work, string.Empty,
            "files", "receive", "--follow", "--ack", "--node", _bus.ProviderNode.LocalAddress, "--recipient", BusFixture.ProviderSubsystem, "--out", inbox);
        var contents = new[] { FileSyncSupport.RandomContent(70_000), FileSyncSupport.RandomContent(80_000) };
        using (var local = _bus.LocalChannel())
        {
            for (var i = 0; i < contents.Length; i++)
            {
                await FileSyncSupport.SendAsync(local, FileSyncSupport.Metadata($"cli-follow-{i}", contents[i], name: $"page-{i}.pdf"), contents[i]);
                await WaitForAsync(() => follower.Output.Contains($"received file cli-follow-{i}", StringComparison.Ordinal), follower);
                Assert.That(await File.ReadAllBytesAsync(Path.Combine(inbox, $"cli-follow-{i}", $"page-{i}.pdf")), Is.EqualTo(contents[i]));
                Assert.That((await FileSyncSupport.SettledAsync(local, $"cli-follow-{i}")).State, Is.EqualTo(DeliveryState.Acknowledged));
            }
        }

        Assert.That(await follower.TerminateAsync(TimeSpan.FromSeconds(60)), Is.Zero, follower.Output);
    }

    /// <summary>Polls until the condition holds; a hang guard, not a timing check.</summary>
    private static async Task WaitForAsync(Func<bool> condition, XbusServer process)
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(90);
        while (!condition())
        {
            Assert.That(DateTimeOffset.UtcNow, Is.LessThan(until), process.Output);
            await Task.Delay(100);
        }
    }
}
