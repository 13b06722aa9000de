// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;

namespace ExchangeBus.Node.Tests.Configuration;

/// <summary>
/// The one read-modify-write of node.json that the <c>xbus node</c> commands and the console
/// share: concurrent editors do not lose each other's change, each change is audited in admin.db
/// with what it removed and added, and a refused change writes nothing and is audited as refused.
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
        var editors = new[] { new NodeSettingsEditor(_paths, null), new NodeSettingsEditor(_paths, null) };
        var subjects = Enumerable.Range(1, 40).Select(i => $"{Member}/system{i}").ToArray();

        await Task.WhenAll(subjects.Select((subject, i) => Task.Run(() =>
            editors[i % 2].Edit("cli:test", "node.acl.allow", s => s.WithRule(new AccessRule { Service = Service, Subject = subject })))));

        Assert.That(NodeSettings.Read(_paths.Settings).AccessRules.Select(r => r.Subject), Is.EquivalentTo(subjects));
    }

    [Test]
    public void AChange_IsAuditedWithWhatWentAndCame_AnUnchangedOneIsNot()
    {
        var audit = NodeAdminDatabase.Open(_paths).Accounts(TimeProvider.System);
        var editor = new NodeSettingsEditor(_paths, audit);
        var rule = new AccessRule { Service = Service, Subject = Member + "/one-stop" };

        Assert.That(editor.Edit("console:services", "node.acl.allow", s => s.WithRule(rule)), Is.True);
        Assert.That(editor.Edit("console:services", "node.acl.allow", s => s.WithRule(rule)), Is.False, "already allowed: nothing to write");
        Assert.That(editor.Edit("cli:root", "node.acl.deny", s => s.WithoutRule(rule)), Is.True);

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
    public void AnInvalidChange_WritesNothing_AndIsAuditedAsRefused()
    {
        var audit = NodeAdminDatabase.Open(_paths).Accounts(TimeProvider.System);
        var editor = new NodeSettingsEditor(_paths, audit);
        var before = File.ReadAllBytes(_paths.Settings);

        var refused = Assert.Throws<NodeConfigurationException>(() =>
            editor.Edit("console:services", "node.acl.allow", s => s.WithRule(new AccessRule { Service = Service, Subject = "not a subject" })));

        Assert.That(refused!.Code, Is.EqualTo(NodeErrors.SettingsInvalid));
        Assert.That(File.ReadAllBytes(_paths.Settings), Is.EqualTo(before));
        var entry = audit.Query(0, 10).Single();
        Assert.That((entry.Action, entry.Accepted, entry.ErrorCode), Is.EqualTo(("node.acl.allow", false, NodeErrors.SettingsInvalid)));
    }

    [Test]
    public void AFolderWithoutNodeJson_IsAnsweredSettingsMissing()
    {
        var editor = new NodeSettingsEditor(new NodePaths(Path.Combine(_folder, "absent")), null);

        var missing = Assert.Throws<NodeConfigurationException>(() => editor.Edit("cli:test", "node.acl.allow", s => s));

        Assert.That(missing!.Code, Is.EqualTo(NodeErrors.SettingsMissing));
    }
}
