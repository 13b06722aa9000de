// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Pki;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Registry.Tests;

/// <summary>`xbus registry …` as an operator runs it: separate processes, real files, real sockets.</summary>
[NonParallelizable]
public sealed class CommandLineTests
{
    private string _data = null!;

    [SetUp]
    public void SetUp() => _data = Path.Combine(Directory.CreateTempSubdirectory("xbus-cli-").FullName, "registry");

    [TearDown]
    public void TearDown() => Directory.Delete(Path.GetDirectoryName(_data)!, recursive: true);

    [Test]
    public async Task InitServeManage_JsonAndErrorsAsScriptsExpect()
    {
        var init = await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN");
        Assert.That(init.ExitCode, Is.Zero, init.Error);
        Assert.That(File.GetUnixFileMode(Path.Combine(_data, "keys", DevelopmentPki.RootKeyFile)), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        var again = await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN");
        Assert.That(again.ExitCode, Is.EqualTo(2));
        Assert.That(again.Error, Does.StartWith("error Registry.AlreadyInitialised"));

        using var server = await Xbus.StartRegistryAsync(_data);
        try
        {
            Assert.That((await Xbus.RunAsync("registry", "member-class", "add", "GOV", "--data", _data)).ExitCode, Is.Zero);
            var add = await Xbus.RunAsync("registry", "member", "add", "VN/GOV/000.00.00.G01", "--name", "Ministry of Transport", "--data", _data, "--json");
            Assert.That(add.ExitCode, Is.Zero, add.Error);
            Assert.That(JsonDocument.Parse(add.Output).RootElement.GetProperty("configuration_version").GetString(), Is.Not.Null);

            var duplicate = await Xbus.RunAsync("registry", "member", "add", "VN/GOV/000.00.00.G01", "--name", "x", "--data", _data);
            Assert.That(duplicate.ExitCode, Is.EqualTo(2));
            Assert.That(duplicate.Error, Does.StartWith("error Registry.DuplicateMember:"));
            Assert.That(duplicate.Error, Does.Contain("correlation id"));

            var list = await Xbus.RunAsync("registry", "member", "list", "--data", _data, "--json");
            var members = JsonDocument.Parse(list.Output).RootElement.GetProperty("members");
            Assert.That(members.GetArrayLength(), Is.EqualTo(1));
            Assert.That(members[0].GetProperty("name").GetString(), Is.EqualTo("Ministry of Transport"));

            var audit = await Xbus.RunAsync("registry", "audit-log", "query", "--data", _data, "--json");
            var entries = JsonDocument.Parse(audit.Output).RootElement.GetProperty("entries");
            Assert.That(entries.EnumerateArray().Count(e => !e.GetProperty("accepted").GetBoolean()), Is.EqualTo(1));
            var verify = await Xbus.RunAsync("registry", "audit-log", "verify", "--data", _data);
            Assert.That(verify.ExitCode, Is.Zero, verify.Error);
            Assert.That(verify.Output, Does.StartWith("audit log intact"));

            // Someone edits an entry behind the registry's back: the check runs and finds it, which
            // a script must see in the exit code (3, as `xbus audit verify`), not only in the words.
            using (var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "registry.db")};Pooling=False"))
            {
                connection.Open();
                using var edit = connection.CreateCommand();
                edit.CommandText = "UPDATE audit_log SET after = replace(after, 'Ministry of Transport', 'Ministry of Tourism') WHERE action = 'member.add' AND after LIKE '%Ministry of Transport%'";
                Assert.That(edit.ExecuteNonQuery(), Is.EqualTo(1));
            }

            var broken = await Xbus.RunAsync("registry", "audit-log", "verify", "--data", _data);
            Assert.That(broken.ExitCode, Is.EqualTo(3), broken.Output);
            Assert.That(broken.Output, Does.StartWith("AUDIT LOG BROKEN at entry "));
            Assert.That(broken.Error, Does.StartWith("error AdminAudit.ChainBroken: "));
            var brokenJson = await Xbus.RunAsync("registry", "audit-log", "verify", "--data", _data, "--json");
            Assert.That(brokenJson.ExitCode, Is.EqualTo(3), brokenJson.Output);
            Assert.That(JsonDocument.Parse(brokenJson.Output).RootElement.TryGetProperty("valid", out var valid) && valid.GetBoolean(), Is.False);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
        }
    }

    [Test]
    public async Task AuditorInTwoCommands_KeygenThenIssue()
    {
        Assert.That((await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN")).ExitCode, Is.Zero);
        var auditorFolder = Path.Combine(Path.GetDirectoryName(_data)!, "auditor");
        var keygen = await Xbus.RunAsync("audit", "keygen", "--out", auditorFolder, "--name", "Nguyễn Văn An");
        Assert.That(keygen.ExitCode, Is.Zero, keygen.Error);
        Assert.That(File.GetUnixFileMode(Path.Combine(auditorFolder, "auditor.key.pem")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var again = await Xbus.RunAsync("audit", "keygen", "--out", auditorFolder, "--name", "An");
        Assert.That((again.ExitCode, again.Error.Split(':')[0]), Is.EqualTo((2, "error " + PkiErrors.FileAlreadyExists)));

        using var server = await Xbus.StartRegistryAsync(_data);
        try
        {
            Assert.That((await Xbus.RunAsync("registry", "member-class", "add", "GOV", "--data", _data)).ExitCode, Is.Zero);
            Assert.That((await Xbus.RunAsync("registry", "member", "add", "VN/GOV/H01", "--name", "MPS", "--data", _data)).ExitCode, Is.Zero);
            var csr = Path.Combine(auditorFolder, "auditor.csr.pem");
            var certificatePath = Path.Combine(auditorFolder, "auditor.pem");

            var both = await Xbus.RunAsync("registry", "auditor", "issue", "--csr", csr, "--name", "An", "--member", "VN/GOV/H01", "--national", "--out", certificatePath, "--data", _data);
            Assert.That((both.ExitCode, both.Error.Split(':')[0]), Is.EqualTo((2, "error Cli.InvalidArguments")));
            var unknown = await Xbus.RunAsync("registry", "auditor", "issue", "--csr", csr, "--name", "An", "--member", "VN/GOV/nobody", "--out", certificatePath, "--data", _data);
            Assert.That((unknown.ExitCode, unknown.Error.Split(':')[0]), Is.EqualTo((2, "error " + RegistryErrors.UnknownMember)));
            Assert.That(File.Exists(certificatePath), Is.False);

            var issue = await Xbus.RunAsync("registry", "auditor", "issue", "--csr", csr, "--name", "Nguyễn Văn An", "--member", "VN/GOV/H01", "--out", certificatePath, "--data", _data, "--json");
            Assert.That(issue.ExitCode, Is.Zero, issue.Error);
            var answer = JsonDocument.Parse(issue.Output).RootElement;
            Assert.That(answer.GetProperty("scope").GetString(), Is.EqualTo("member"));

            using var certificate = PemFiles.ReadCertificate(certificatePath);
            using var key = PemFiles.ReadPrivateKey(Path.Combine(auditorFolder, "auditor.key.pem"));
            Assert.That(certificate.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(key.ExportSubjectPublicKeyInfo()));
            Assert.That(answer.GetProperty("serial_number").GetString(), Is.EqualTo(certificate.SerialNumber));
            var identity = AuditorIdentity.TryRead(certificate);
            Assert.That((identity?.Member?.ToString(), identity?.Name), Is.EqualTo(("VN/GOV/H01", "Nguyễn Văn An")));

            var listed = await Xbus.RunAsync("registry", "cert", "list", "--data", _data);
            Assert.That(listed.Output, Does.Contain(certificate.SerialNumber + "  Auditor"));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
        }
    }

    [Test]
    public async Task ManagementWithoutRunningRegistry_ClearError()
    {
        await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN");
        var result = await Xbus.RunAsync("registry", "member", "list", "--data", _data);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.StartWith("error Registry.NotRunning"));
    }

    [Test]
    public async Task KillDashNineDuringChanges_DatabaseConsistentAndNothingAcknowledgedLost()
    {
        Assert.That((await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN")).ExitCode, Is.Zero);
        var server = await Xbus.StartRegistryAsync(_data);
        var acknowledged = new List<string>();
        using (var admin = AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;

            // Four writers keep changes in flight; the kill lands in the middle of some of them.
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var member = $"VN/GOV/M{w}-{i}";
                    try
                    {
                        await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = member, Name = member }).ResponseAsync;
                        lock (acknowledged)
                        {
                            acknowledged.Add(member);
                        }
                    }
                    catch (RpcException)
                    {
                        return;
                    }
                }
            })).ToArray();
            while (true)
            {
                lock (acknowledged)
                {
                    if (acknowledged.Count >= 40)
                    {
                        break;
                    }
                }

                await Task.Delay(10);
            }

            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        server.Dispose();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_data, RegistryDatabase.FileName)}"))
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check;";
            Assert.That(check.ExecuteScalar(), Is.EqualTo("ok"));
        }

        using var keys = RegistryKeys.Load(Path.Combine(_data, RegistryKeys.Folder), TimeProvider.System);
        var store = new RegistryStore(RegistryDatabase.Open(_data), keys, TimeProvider.System);
        Assert.That(store.VerifyAuditLog().Valid, Is.True);
        var members = store.ListMembers().Select(m => m.Member).ToHashSet();
        Assert.That(members, Is.SupersetOf(acknowledged), "an acknowledged change was lost");
        var accepted = store.QueryAuditLog(0, 1000, null, "member.add").Count(e => e.Accepted);
        Assert.That(members, Has.Count.EqualTo(accepted), "every member has its audit entry and every entry its member");
        var published = Contracts.GlobalConf.V1.GlobalConfiguration.Parser.ParseFrom(store.CurrentConfiguration().Configuration!.Configuration);
        Assert.That(published.Members.Select(m => $"VN/{m.MemberClass}/{m.MemberCode}"), Is.EquivalentTo(members), "the last configuration matches the tables");

        var restarted = await Xbus.StartRegistryAsync(_data);
        try
        {
            using var admin = AdminChannel();
            var after = await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/after-crash", Name = "x" }).ResponseAsync;
            Assert.That(after.ConfigurationVersion, Is.GreaterThan(published.Version));
        }
        finally
        {
            restarted.Kill(entireProcessTree: true);
            restarted.Dispose();
        }
    }

    private GrpcChannel AdminChannel()
    {
        var endpoints = JsonSerializer.Deserialize<Hosting.RegistryEndpoints>(File.ReadAllText(Path.Combine(_data, Hosting.RegistryEndpoints.FileName)))!;
        return AdministratorChannel.Open(endpoints.Grpc, Path.Combine(_data, RegistryKeys.Folder), TimeProvider.System);
    }
}
