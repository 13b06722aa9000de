// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ExchangeBus.Tests.Shared;

/// <summary>
/// A throwaway PostgreSQL cluster: the machine's own <c>initdb</c> and <c>pg_ctl</c> run in a
/// temporary folder, the server listens on a free loopback port (and a unix socket inside the
/// folder, so it never touches /run/postgresql), trust authentication, fsync on as in production.
/// Never a system service. One per test fixture; <see cref="CreateDatabase"/> gives each test a
/// database of its own, which is much cheaper than a cluster. Linked into each test project that
/// runs a store on PostgreSQL.
/// </summary>
internal sealed class TempPostgres : IDisposable
{
    /// <summary>
    /// Who runs the cluster when the tests run as root. initdb refuses root ("cannot be run as
    /// root") and the server refuses to start as root, so as root every PostgreSQL program runs
    /// through <c>runuser -u nobody --</c>, with the folder given to nobody. nobody exists on every
    /// Debian machine and needs no password from root; creating a user of our own would change the
    /// machine for a test. Found on this machine kind (Debian 12, PostgreSQL 15, tests as root).
    /// </summary>
    private const string UnprivilegedUser = "nobody";

    private const string Superuser = "postgres";

    private readonly string _binaries;
    private int _databases;

    private TempPostgres(string binaries, string folder)
    {
        _binaries = binaries;
        Folder = folder;
    }

    /// <summary>The folder holding the cluster (<c>data/</c>), its log and its socket.</summary>
    public string Folder { get; }

    public int Port { get; private set; }

    private string DataDirectory => Path.Combine(Folder, "data");

    private string LogFile => Path.Combine(Folder, "postgres.log");

    private static bool AsRoot => Environment.IsPrivilegedProcess;

    /// <summary>
    /// The folder holding <c>initdb</c> and <c>pg_ctl</c>: /usr/local/bin, then PATH, then
    /// Debian's /usr/lib/postgresql/VERSION/bin (the newest version); null when none has both.
    /// </summary>
    public static string? FindBinaries()
    {
        var candidates = new List<string> { "/usr/local/bin" };
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>
    /// Starts a cluster for a fixture. Without PostgreSQL binaries the fixture's tests are
    /// ignored with the reason, so a developer without PostgreSQL still runs the SQLite suite;
    /// in CI (<c>CI=true</c>) they fail instead, since CI promises both engines.
    /// </summary>
    public static TempPostgres StartOrIgnore()
    {
        if (FindBinaries() is not { } binaries)
        {
            const string reason = "PostgreSQL's initdb and pg_ctl were not found in /usr/local/bin, on PATH or in /usr/lib/postgresql/*/bin "
                + "(Debian package postgresql; test.sh installs it as root)";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(reason + "; in CI the PostgreSQL tests must run.");
            }

            Assert.Ignore(reason + ".");
            throw new UnreachableException();
        }

        return Start(binaries);
    }

    public static TempPostgres Start(string binaries)
    {
        var folder = Directory.CreateTempSubdirectory("xbus-pg-").FullName;
        var cluster = new TempPostgres(binaries, folder);
        try
        {
            if (AsRoot)
            {
                Run("chown", [UnprivilegedUser, folder], asUser: false);
            }

            // --no-sync only skips initdb's own flush of the files it wrote (a throwaway cluster);
            // the server itself runs with fsync on.
            cluster.Pg("initdb", ["-D", cluster.DataDirectory, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
            cluster.StartServer();
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>A new, empty database; returns its connection string (superuser, trust).</summary>
    public string CreateDatabase()
    {
        var name = "test_" + Interlocked.Increment(ref _databases).ToString(CultureInfo.InvariantCulture);
        using (var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name}";
            command.ExecuteNonQuery();
        }

        return ConnectionString(name);
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
    }.ConnectionString;

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                Pg("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w"]);
            }
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    private void StartServer()
    {
        // A free port now may be taken before the server binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                Pg("pg_ctl", ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o",
                    $"-p {Port} -k {Folder} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"]);
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Another process took the port; the log says so.
            }
        }
    }

    private void Pg(string program, IReadOnlyList<string> arguments) =>
        Run(Path.Combine(_binaries, program), arguments, AsRoot, LogFile);

    private static void Run(string program, IReadOnlyList<string> arguments, bool asUser, string? log = null)
    {
        var start = new ProcessStartInfo(asUser ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser)
        {
            foreach (var prefix in new[] { "-u", UnprivilegedUser, "--", program })
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var serverLog = log is not null && File.Exists(log) ? File.ReadAllText(log) : string.Empty;
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {output}{error.Result}{serverLog}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
