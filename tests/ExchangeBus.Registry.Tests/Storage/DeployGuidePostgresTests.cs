// SPDX-License-Identifier: Apache-2.0
using System.Text.RegularExpressions;
using ExchangeBus.Core.Storage;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>
/// docs/deploy.md, "PostgreSQL for the registry", followed as written: the operator's SQL, then
/// its <c>init</c> and <c>serve</c> lines, on a throwaway cluster. Only what the page leaves to the
/// reader is filled in: the server's address, the password (<c>…</c>), the data folder, free ports.
/// </summary>
public sealed partial class DeployGuidePostgresTests
{
    private const string Password = "deploy-guide-test";

    [Test]
    public async Task ThePostgresSection_RunAsWritten_AnOwnedDatabase_InitAndServe_NoRegistryDb()
    {
        var page = await File.ReadAllTextAsync(Path.Combine(RepositoryFolder.Root(), "docs", "deploy.md"));
        var start = page.IndexOf("\n## PostgreSQL for the registry\n", StringComparison.Ordinal);
        Assert.That(start, Is.Not.Negative, "the section");
        var next = page.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = next < 0 ? page[start..] : page[start..next];
        var sql = Block(section, "sql");
        var commands = Block(section, "text").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(commands.Select(c => string.Join(' ', Words(c).Take(3))), Is.EqualTo(new[] { "xbus registry init", "xbus registry serve" }));

        // TCP with passwords: the role the guide creates logs in with the password it was given.
        using var postgres = TempPostgres.StartOrIgnore(tcp: true);
        var folder = Directory.CreateTempSubdirectory("xbus-deploy-pg-").FullName;
        try
        {
            using (var superuser = new NpgsqlConnection(postgres.ConnectionString("postgres")))
            {
                superuser.Open();
                foreach (var statement in sql.Replace("'…'", $"'{Password}'", StringComparison.Ordinal).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    Sql.Execute(superuser, null, statement);
                }
            }

            var init = await Xbus.RunAsync(Arguments(commands[0], postgres.Port, folder));
            Assert.That(init.ExitCode, Is.Zero, init.Error);

            var data = Path.Combine(folder, "registry-data");
            var endpoints = Path.Combine(data, "endpoints.json");
            using var serve = Xbus.Start([.. Arguments(commands[1], postgres.Port, folder), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]);
            var output = serve.StandardOutput.ReadToEndAsync();
            var error = serve.StandardError.ReadToEndAsync();
            try
            {
                using var started = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                while (!File.Exists(endpoints) || new FileInfo(endpoints).Length == 0)
                {
                    Assert.That(serve.HasExited, Is.False, () => "serve ended: " + (serve.HasExited ? error.Result : string.Empty));
                    await Task.Delay(100, started.Token);
                }
            }
            finally
            {
                serve.Kill(entireProcessTree: true);
                await serve.WaitForExitAsync();
                await Task.WhenAll(output, error);
            }

            // The registry's tables, made by the role the operator created, with the first configuration published.
            var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("xbus_registry")) { Username = "xbus_registry", Password = Password, Pooling = false };
            using var registry = new NpgsqlConnection(builder.ConnectionString);
            registry.Open();
            Assert.That(Sql.Scalar(registry, null, "SELECT tableowner FROM pg_tables WHERE tablename = 'configurations'"), Is.EqualTo("xbus_registry"));
            Assert.That(Sql.ScalarInt64(registry, null, "SELECT COUNT(*) FROM configurations"), Is.Positive);
            Assert.That(Sql.ScalarInt64(registry, null, "SELECT MAX(version) FROM xbus_registry_schema_version"), Is.EqualTo(RegistryDatabase.CurrentPostgresSchemaVersion));
            Assert.That(File.Exists(Path.Combine(data, RegistryDatabase.FileName)), Is.False);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A line of the page as xbus's arguments: the server, its password and the data folder filled in.</summary>
    private static string[] Arguments(string line, int port, string folder) =>
        [.. Words(line).Skip(1).Select(word => word
            .Replace("Host=db.internal", $"Host=127.0.0.1;Port={port};Password={Password}", StringComparison.Ordinal)
            // The throwaway cluster has no TLS; on loopback the bus does not ask for it.
            .Replace(";SSL Mode=VerifyFull;Root Certificate=/etc/xbus/postgres-ca.pem", string.Empty, StringComparison.Ordinal)
            .Replace("registry-data", Path.Combine(folder, "registry-data"), StringComparison.Ordinal))];

    /// <summary>Words as a shell splits them: on spaces, a double-quoted part kept whole.</summary>
    private static IEnumerable<string> Words(string line) =>
        Word().Matches(line).Select(m => m.Value.Replace("\"", string.Empty, StringComparison.Ordinal));

    private static string Block(string section, string language)
    {
        var match = Regex.Match(section, $"^```{language}\\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.That(match.Success, Is.True, $"a ```{language} block");
        return match.Groups[1].Value;
    }

    [GeneratedRegex("(?:\"[^\"]*\"|[^\\s\"])+")]
    private static partial Regex Word();
}
