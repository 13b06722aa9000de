// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.WebConsole;

/// <summary>A node's admin.db: console accounts and the admin audit log written with every change.</summary>
public sealed class NodeAdminStoreTests
{
    private const string Password = "correct horse battery staple";
    private string _folder = null!;

    [SetUp]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("xbus-admin-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void SignIn_LockoutAndLogin_AreEachAnEntryOfAnIntactChain()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = NodeAdminDatabase.Open(new NodePaths(_folder)).Accounts(clock);
        store.Add("cli:root", new ConsoleAccount("hoa", new HashSet<ConsoleRole> { ConsoleRole.ServiceAdministrator }, ConsolePasswords.Hash(Password), 0, null));
        var signIn = new ConsoleSignIn(store, new ConsoleOptions { MaxFailedLogins = 2, LockoutDuration = TimeSpan.FromMinutes(15) }, clock);

        Assert.That(signIn.SignIn("hoa", "wrong").ErrorCode, Is.EqualTo(ConsoleErrors.LoginFailed));
        Assert.That(signIn.SignIn("hoa", "wrong").ErrorCode, Is.EqualTo(ConsoleErrors.LockedOut), "the second failure locks (and is recorded as a failure)");
        clock.Advance(TimeSpan.FromMinutes(15));
        Assert.That(signIn.SignIn("hoa", Password).Succeeded, Is.True);

        var entries = store.Query(0, 100);
        Assert.That(entries.Select(e => (e.Actor, e.Action, e.Accepted, e.ErrorCode)), Is.EqualTo(new[]
        {
            ("cli:root", "console.user.add", true, string.Empty),
            ("console:hoa", "console.login", false, ConsoleErrors.LoginFailed),
            ("console:hoa", "console.login", false, ConsoleErrors.LoginFailed),
            ("console:hoa", "console.login", true, string.Empty),
        }));
        Assert.That(entries.Any(e => e.After.Contains("AQAAAA", StringComparison.Ordinal)), Is.False, "no password hash in the log");
        Assert.That(store.Verify().Valid, Is.True);
    }

    [Test]
    public void Add_ATakenName_IsRefusedAndTheRefusalAudited()
    {
        var store = NodeAdminDatabase.Open(new NodePaths(_folder)).Accounts(TimeProvider.System);
        var account = new ConsoleAccount("lan", new HashSet<ConsoleRole> { ConsoleRole.Auditor }, ConsolePasswords.Hash(Password), 0, null);
        store.Add("cli:root", account);

        var refused = Assert.Throws<ConsoleAccountException>(() => store.Add("cli:root", account));

        Assert.That(refused!.Code, Is.EqualTo(ConsoleErrors.DuplicateAccount));
        Assert.That(store.Query(0, 100).Select(e => (e.Accepted, e.ErrorCode)), Is.EqualTo(new[] { (true, string.Empty), (false, ConsoleErrors.DuplicateAccount) }));
    }

    [Test]
    public void RecordChange_WhenTheChangeFails_LeavesNoEntry()
    {
        var store = NodeAdminDatabase.Open(new NodePaths(_folder)).Accounts(TimeProvider.System);

        Assert.Throws<IOException>(() => store.RecordChange("console:hoa", "node.acl.allow", null, new { rule = 1 }, () => throw new IOException("disk full")));
        var entry = store.RecordChange("console:hoa", "node.acl.allow", new { rules = 0 }, new { rules = 1 }, () => { });

        Assert.That(entry.Sequence, Is.EqualTo(1), "the failed change wrote nothing");
        Assert.That((entry.Before, entry.After), Is.EqualTo(("{\"rules\":0}", "{\"rules\":1}")));
        Assert.That(store.Verify().Valid, Is.True);
    }

    [Test]
    public void AdminDatabase_IsReadableByItsOwnerOnly()
    {
        var paths = new NodePaths(_folder);
        NodeAdminDatabase.Open(paths);

        Assert.That(File.GetUnixFileMode(paths.AdminDatabase) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead), Is.EqualTo(UnixFileMode.None));
    }
}
