// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Configuration;

/// <summary>
/// The one read-modify-write of node.json that the <c>xbus node</c> commands and the console
/// share: concurrent editors do not lose each other's change, each change is audited in admin.db
/// with what it removed and added, a refused change writes nothing and is audited as refused, and
/// an edit waits for a held lock on its clock, not a thread, then gives up.
/// </summary>
public sealed class NodeSettingsEditorTests
{
    private const string Member = "VN/GOV/000.00.00.G01";
    private const string Service = Member + "/registry/lookup";

    private string _folder = null!;
    private NodePaths _paths = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = Directory.CreateTempSubdirectory("xbus-editor-").FullName;
        _paths = new NodePaths(_folder);
        new NodeSettings { Node = Member + "/ss1", Address = "127.0.0.1:5500" }.Write(_paths.Settings);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task ConcurrentEditors_EachRuleAddedByAnyOfThem_IsInTheFile()
    {
        // Two editors, as a command and the console would be, each with its own lock handle.
        var editors = new[] { new NodeSettingsEditor(_paths, null, TimeProvider.System), new NodeSettingsEditor(_paths, null, TimeProvider.System) };
        var subjects = Enumerable.Range(1, 40).Select(i => $"{Member}/system{i}").ToArray();

        await Task.WhenAll(subjects.Select((subject, i) => Task.Run(() =>
            editors[i % 2].EditAsync("cli:test", "node.acl.allow", s => s.WithRule(new AccessRule { Service = Service, Subject = subject })))));

        Assert.That(NodeSettings.Read(_paths.Settings).AccessRules.Select(r => r.Subject), Is.EquivalentTo(subjects));
    }

    [Test]
    public async Task AChange_IsAuditedWithWhatWentAndCame_AnUnchangedOneIsNot()
    {
        var audit = NodeAdminDatabase.Open(_paths).Accounts(TimeProvider.System);
        var editor = new NodeSettingsEditor(_paths, audit, TimeProvider.System);
        var rule = new AccessRule { Service = Service, Subject = Member + "/one-stop" };

        Assert.That(await editor.EditAsync("console:services", "node.acl.allow", s => s.WithRule(rule)), Is.True);
        Assert.That(await editor.EditAsync("console:services", "node.acl.allow", s => s.WithRule(rule)), Is.False, "already allowed: nothing to write");
        Assert.That(await editor.EditAsync("cli:root", "node.acl.deny", s => s.WithoutRule(rule)), Is.True);

        var entries = audit.Query(0, 10);
        Assert.That(entries.Select(e => (e.Actor, e.Action, e.Accepted)), Is.EqualTo(new[]
        {
            ("console:services", "node.acl.allow", true),
            ("cli:root", "node.acl.deny", true),
        }));
        Assert.That(entries[0].Before, Is.EqualTo("{}"));
        Assert.That(entries[0].After, Does.Contain("accessRules").And.Contain(Member + "/one-stop"));
        Assert.That(entries[1].Before, Does.Contain(Member + "/one-stop"));
        Assert.That(NodeSettings.Read(_paths.Settings).AccessRules, Is.Empty);
        Assert.That(audit.Verify().Valid, Is.True);
    }

    [Test]
    public async Task AnInvalidChange_WritesNothing_AndIsAuditedAsRefused()
    {
        var audit = NodeAdminDatabase.Open(_paths).Accounts(TimeProvider.System);
        var editor = new NodeSettingsEditor(_paths, audit, TimeProvider.System);
        var before = File.ReadAllBytes(_paths.Settings);

        var refused = await Assert.ThrowsAsync<NodeConfigurationException>(() =>
            editor.EditAsync("console:services", "node.acl.allow", s => s.WithRule(new AccessRule { Service = Service, Subject = "not a subject" })));

        Assert.That(refused!.Code, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(File.ReadAllBytes(_paths.Settings), Is.EqualTo(before));
        var entry = audit.Query(0, 10).Single();
        Assert.That((entry.Action, entry.Accepted, entry.ErrorCode), Is.EqualTo(("node.acl.allow", false, NodeErrors.SettingsInvalid)));
    }

    [Test]
    public async Task AFolderWithoutNodeJson_IsAnsweredSettingsMissing()
    {
        var editor = new NodeSettingsEditor(new NodePaths(Path.Combine(_folder, "absent")), null, TimeProvider.System);

        var missing = await Assert.ThrowsAsync<NodeConfigurationException>(() => editor.EditAsync("cli:test", "node.acl.allow", s => s));

        Assert.That(missing!.Code, Is.EqualTo(NodeErrors.SettingsMissing));
    }

    [Test]
    public async Task AnEditWaitingForAHeldLock_GivesUpSettingsBusy_OnceItsClockPassesThePatience_WritingNothing()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero));
        var editor = new NodeSettingsEditor(_paths, null, clock);
        var before = await File.ReadAllBytesAsync(_paths.Settings);
        await using var held = new FileStream(editor.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        var edit = editor.EditAsync("cli:test", "node.acl.allow", s => s.WithRule(new AccessRule { Service = Service, Subject = Member + "/late" }));

        Assert.That(edit.IsCompleted, Is.False, "it waits on its clock while the lock is held");
        clock.Advance(NodeSettingsEditor.LockPatience + TimeSpan.FromSeconds(1));
        var busy = await Assert.ThrowsAsync<NodeConfigurationException>(() => edit);
        Assert.That(busy!.Code, Is.EqualTo(NodeErrors.SettingsBusy));
        Assert.That(await File.ReadAllBytesAsync(_paths.Settings), Is.EqualTo(before));
    }
}
