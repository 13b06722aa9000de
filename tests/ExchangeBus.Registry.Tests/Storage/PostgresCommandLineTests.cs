// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Accounts;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary><c>--postgres</c> on the registry's commands: the one setting, checked before anything is written.</summary>
public sealed class PostgresCommandLineTests
{
    private string _data = null!;

    [SetUp]
    public void SetUp() => _data = Path.Combine(Directory.CreateTempSubdirectory("xbus-registry-cli-pg-").FullName, "registry");

    [TearDown]
    public void TearDown() => Directory.Delete(Path.GetDirectoryName(_data)!, recursive: true);

    [Test]
    public async Task Serve_MalformedPostgres_RefusedAtStartWithItsCode_WithoutEchoingIt()
    {
        var result = await Xbus.RunAsync("registry", "serve", "--data", _data, "--postgres", "Host=127.0.0.1;Password=secret");

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Error, Does.StartWith("error Config.Invalid: postgres is not a usable PostgreSQL connection string (Storage.InvalidConnectionString): it names no Database"));
        Assert.That(result.Error, Does.Not.Contain("secret"));
    }

    [Test]
    public async Task Init_MalformedPostgres_RefusedWithItsCode_NothingWritten()
    {
        var result = await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN", "--postgres", "Host=127.0.0.1;Database");

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Error, Does.StartWith("error Storage.InvalidConnectionString: "));
        Assert.That(Directory.Exists(_data), Is.False, "no half-made registry: no keys, no registry.db");
    }

    [Test]
    public async Task Serve_WithoutPostgresOnAPostgresRegistrysFolder_NotInitialised_NoRegistryDbMade()
    {
        using var postgres = TempPostgres.StartOrIgnore();
        var database = postgres.CreateDatabase();
        var init = await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN", "--postgres", database);
        Assert.That(init.ExitCode, Is.Zero, init.Error);

        var withoutPostgres = await Xbus.RunAsync("registry", "serve", "--data", _data, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0");

        Assert.That(withoutPostgres.ExitCode, Is.EqualTo(2), withoutPostgres.Error);
        Assert.That(withoutPostgres.Error, Does.StartWith("error Registry.NotInitialised: ").And.Contain("--postgres"));
        Assert.That(withoutPostgres.Error, Does.Not.Contain("   at "), "one line, no stack trace");
        Assert.That(File.Exists(Path.Combine(_data, RegistryDatabase.FileName)), Is.False, "no empty registry.db made beside the PostgreSQL one");
    }

    [Test]
    public async Task Serve_OnAPostgresDatabaseNeverInitialised_NotInitialised()
    {
        using var postgres = TempPostgres.StartOrIgnore();
        var init = await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN", "--postgres", postgres.CreateDatabase());
        Assert.That(init.ExitCode, Is.Zero, init.Error);

        var serve = await Xbus.RunAsync("registry", "serve", "--data", _data, "--postgres", postgres.CreateDatabase(), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0");

        Assert.That(serve.ExitCode, Is.EqualTo(2), serve.Error);
        Assert.That(serve.Error, Does.StartWith("error Registry.NotInitialised: PostgreSQL database "));
        Assert.That(serve.Error, Does.Not.Contain("   at "), "one line, no stack trace");
        Assert.That(File.Exists(Path.Combine(_data, RegistryDatabase.FileName)), Is.False);
    }

    [Test]
    public async Task InitAnchorExportUserAdd_OnPostgres_NoRegistryDbInTheDataFolder()
    {
        using var postgres = TempPostgres.StartOrIgnore();
        var database = postgres.CreateDatabase();

        var init = await Xbus.RunAsync("registry", "init", "--data", _data, "--instance", "VN", "--postgres", database);
        Assert.That(init.ExitCode, Is.Zero, init.Error);
        Assert.That(init.Output, Does.Contain("--postgres"));
        var again = await Xbus.RunAsync("registry", "init", "--data", _data + "-again", "--instance", "VN", "--postgres", database);
        Assert.That(again.ExitCode, Is.Not.Zero, "a database already initialised is not initialised twice");
        Assert.That(again.Error, Does.StartWith("error Registry.AlreadyInitialised: PostgreSQL database "));
        Assert.That(Directory.Exists(_data + "-again"), Is.False, "refused before any key was made");

        var anchor = Path.Combine(Path.GetDirectoryName(_data)!, "anchor.json");
        var withoutPostgres = await Xbus.RunAsync("registry", "anchor", "export", "--data", _data, "--registry-address", "https://127.0.0.1:4400", "--out", anchor);
        Assert.That(withoutPostgres.ExitCode, Is.Not.Zero);
        Assert.That(withoutPostgres.Error, Does.StartWith("error Registry.NotInitialised: ").And.Contain("give --postgres"));
        Assert.That(File.Exists(Path.Combine(_data, RegistryDatabase.FileName)), Is.False, "no empty registry.db made beside the PostgreSQL one");


        var export = await Xbus.RunAsync("registry", "anchor", "export", "--data", _data, "--postgres", database, "--registry-address", "https://127.0.0.1:4400", "--out", anchor);
        Assert.That(export.ExitCode, Is.Zero, export.Error);
        Assert.That(export.Output, Does.StartWith("anchor for instance VN written to"));

        var user = await Xbus.RunWithInputAsync("correct horse battery staple", "registry", "user", "add", "an", "--role", "auditor", "--data", _data, "--postgres", database);
        Assert.That(user.ExitCode, Is.Zero, user.Error);
        using (var registry = RegistryDatabase.Open(_data, database))
        using (var keys = RegistryKeys.Load(Path.Combine(_data, RegistryKeys.Folder), TimeProvider.System))
        {
            Assert.That(new RegistryStore(registry, keys, TimeProvider.System).FindAccount("an")?.Roles, Is.EquivalentTo(new[] { ConsoleRole.Auditor }));
        }

        Assert.That(File.Exists(Path.Combine(_data, RegistryDatabase.FileName)), Is.False, "every command went to PostgreSQL");
        NpgsqlConnection.ClearAllPools();
    }
}
