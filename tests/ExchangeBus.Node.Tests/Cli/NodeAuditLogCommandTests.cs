// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.WebConsole.Accounts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>`xbus node audit-log query|verify` run as a script would, over a node's real admin.db.</summary>
public sealed class NodeAuditLogCommandTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private string _data = null!;

    /// <summary>
    /// admin.db with four entries an hour apart from 08:00 UTC: an account added by the CLI, a
    /// rule allowed by console:hoa, a refused action of console:lan, a rule denied by console:hoa.
    /// </summary>
    [SetUp]
    public void SetUp()
    {
        _data = Directory.CreateTempSubdirectory("xbus-adminlog-").FullName;
        var paths = new NodePaths(_data);
        new NodeSettings { Node = "VN/GOV/000.00.00.G01/ss1", Address = "127.0.0.1:5500" }.Write(paths.Settings);
        var clock = new FakeTimeProvider(Start);
        var log = NodeAdminDatabase.Open(paths).Accounts(clock);
        log.Add("cli:root", new ConsoleAccount("hoa", new HashSet<ConsoleRole> { ConsoleRole.ServiceAdministrator }, ConsolePasswords.Hash("correct horse battery staple"), 0, null));
        clock.Advance(TimeSpan.FromHours(1));
        log.RecordChange("console:hoa", "node.acl.allow", new { rules = 0 }, new { rules = 1 }, () => { });
        clock.Advance(TimeSpan.FromHours(1));
        log.RecordEvent("console:lan", "console.forbidden", false, ConsoleErrors.Forbidden, null);
        clock.Advance(TimeSpan.FromHours(1));
        log.RecordChange("console:hoa", "node.acl.deny", new { rules = 1 }, new { rules = 0 }, () => { });
    }

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Test]
    public async Task Query_FiltersByActorTimeAndLimit_OldestFirst()
    {
        var byActor = await XbusProcess.RunAsync("node", "audit-log", "query", "--actor", "console:hoa", "--data", _data);
        var byTime = await XbusProcess.RunAsync("node", "audit-log", "query", "--from", "2026-12-07T16:30:00+07:00", "--to", "2026-12-07T11:00:00Z", "--data", _data);
        var latest = await XbusProcess.RunAsync("node", "audit-log", "query", "--limit", "1", "--data", _data);

        Assert.That(byActor.Exit, Is.Zero, byActor.ToString());
        Assert.That(Lines(byActor), Has.Length.EqualTo(2));
        Assert.That(Lines(byActor)[0], Does.StartWith("     2  2026-12-07 09:00:00Z  accepted  node.acl.allow").And.Contain("console:hoa").And.EndWith("{\"rules\":1}"));
        Assert.That(Lines(byActor)[1], Does.StartWith("     4  2026-12-07 11:00:00Z  accepted  node.acl.deny"));
        Assert.That(Lines(byTime), Has.Length.EqualTo(1), "09:30 UTC (given with Viet Nam's offset) to 11:00 exclusive: the one refused entry");
        Assert.That(Lines(byTime)[0], Does.Contain("REFUSED   console.forbidden").And.Contain("console:lan  Console.Forbidden"));
        Assert.That(Lines(latest).Select(l => l.TrimStart()[..1]), Is.EqualTo(new[] { "4" }));
    }

    [Test]
    public async Task Query_WithATimeThatIsNotOne_IsRefusedWithTheCode()
    {
        var result = await XbusProcess.RunAsync("node", "audit-log", "query", "--from", "yesterday", "--data", _data);

        Assert.That(result.Exit, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.Contain("error Cli.InvalidArguments: --from"));
    }

    [Test]
    public async Task Verify_AnUntouchedLog_IsIntact()
    {
        var result = await XbusProcess.RunAsync("node", "audit-log", "verify", "--data", _data);

        Assert.That(result.Exit, Is.Zero, result.ToString());
        Assert.That(result.Output.Trim(), Is.EqualTo("admin audit log intact: 4 entries"));
    }

    [Test]
    public async Task Verify_AnEditedEntry_ExitsThreeWithTheChainBrokenCode()
    {
        using (var connection = new SqliteConnection($"Data Source={new NodePaths(_data).AdminDatabase};Pooling=False"))
        {
            connection.Open();
            using var edit = connection.CreateCommand();
            edit.CommandText = "UPDATE audit_log SET after = '{\"rules\":9}' WHERE seq = 2";
            Assert.That(edit.ExecuteNonQuery(), Is.EqualTo(1));
        }

        var result = await XbusProcess.RunAsync("node", "audit-log", "verify", "--data", _data);

        Assert.That(result.Exit, Is.EqualTo(3), result.ToString());
        Assert.That(result.Error, Does.Contain($"error {AdminAuditErrors.ChainBroken}: the admin audit log is broken at entry 2: content does not match its hash"));
        Assert.That(result.Output, Is.Empty);
    }

    private static string[] Lines(XbusResult result) => result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
