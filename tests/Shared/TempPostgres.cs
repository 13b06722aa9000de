// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace ExchangeBus.Tests.Shared;

/// <summary>
/// A throwaway PostgreSQL cluster: the machine's own <c>initdb</c> and <c>pg_ctl</c> run in a
/// temporary folder (0700), fsync on as in production. The server listens only on a unix socket
/// inside that folder (never /run/postgresql), so no other user of the machine can reach it, and
/// trusts whoever can; a test that needs TCP (<c>tcp: true</c>) gets a loopback port with
/// scram-sha-256 and a random superuser password instead. Never a system service. One per test
/// fixture; <see cref="CreateDatabase"/> gives each test a database of its own, which is much
/// cheaper than a cluster. A cluster left by a test run that was killed is stopped and deleted by
/// the next one to start. Linked into each test project that runs a store on PostgreSQL.
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

    /// <summary>The folders' prefix in the temporary folder, which stale clusters are looked for by.</summary>
    private const string Prefix = "xbus-pg-";

    /// <summary>A file in the folder naming the test process that made it: the cluster is stale once that process is gone.</summary>
    private const string OwnerFile = "owner.pid";

    private readonly string _binaries;
    private readonly string? _password;
    private int _databases;

    private TempPostgres(string binaries, string folder, string? password)
    {
        _binaries = binaries;
        Folder = folder;
        _password = password;
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
    public static TempPostgres StartOrIgnore(bool tcp = false)
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

        return Start(binaries, tcp);
    }

    public static TempPostgres Start(string binaries, bool tcp = false)
    {
        StopStale(binaries);
        var folder = Directory.CreateTempSubdirectory(Prefix).FullName;
        File.WriteAllText(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var cluster = new TempPostgres(binaries, folder, tcp ? Convert.ToHexString(RandomNumberGenerator.GetBytes(16)) : null);
        try
        {
            if (AsRoot)
            {
                Run("chown", [UnprivilegedUser, folder], asUser: false);
            }

            // --no-sync only skips initdb's own flush of the files it wrote (a throwaway cluster);
            // the server itself runs with fsync on.
            List<string> initdb = ["-D", cluster.DataDirectory, "-U", Superuser, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"];
            if (cluster._password is { } password)
            {
                var passwordFile = Path.Combine(folder, "password");
                File.WriteAllText(passwordFile, password);
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                if (AsRoot)
                {
                    Run("chown", [UnprivilegedUser, passwordFile], asUser: false);
                }

                initdb.AddRange(["-A", "scram-sha-256", "--pwfile", passwordFile]);
            }
            else
            {
                initdb.AddRange(["-A", "trust"]);
            }

            cluster.Pg("initdb", initdb);
            cluster.StartServer(tcp);
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

    /// <summary>
    /// Restarts the server as an operator's restart does (<c>pg_ctl restart -m fast</c>: every
    /// session ended, then the same options, port and socket again), for tests of what survives it.
    /// </summary>
    public void Restart() => Pg("pg_ctl", ["restart", "-D", DataDirectory, "-l", LogFile, "-m", "fast", "-w", "-t", "60"]);

    /// <summary>The superuser's connection string: the socket folder, or 127.0.0.1 and the password for a TCP cluster.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = _password is null ? Folder : "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Password = _password,
        Database = database,
    }.ConnectionString;

    public void Dispose()
    {
        try
        {
            Stop(_binaries, Folder);
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    /// <summary>
    /// Stops the cluster in <paramref name="folder"/>: <c>pg_ctl stop</c>, and when that fails
    /// the postmaster killed by the PID it wrote, so that deleting the folder never leaves a
    /// server running on files that are gone.
    /// </summary>
    private static void Stop(string binaries, string folder)
    {
        var data = Path.Combine(folder, "data");
        var pidFile = Path.Combine(data, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }

        try
        {
            Run(Path.Combine(binaries, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w"], AsRoot);
        }
        catch (InvalidOperationException)
        {
            if (File.Exists(pidFile)
                && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    using var postmaster = Process.GetProcessById(pid);
                    postmaster.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
            }
        }
    }

    /// <summary>
    /// Stops and deletes the clusters of test runs that were killed before they could: folders
    /// whose owner process is gone. Best effort; one another run is deleting too is left to it.
    /// </summary>
    private static void StopStale(string binaries)
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            try
            {
                var owner = Path.Combine(folder, OwnerFile);
                if (!File.Exists(owner)
                    || !int.TryParse(File.ReadAllText(owner), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    || IsRunning(pid))
                {
                    continue;
                }

                Stop(binaries, folder);
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // Another run cleaning the same folder, or one we may not touch.
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is a live process. A zombie is not: a postmaster that
    /// pg_ctl started is reparented to PID 1, which in a container may never reap it.
    /// </summary>
    internal static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private void StartServer(bool tcp)
    {
        // A free port now may be taken before the server binds it: try a few. A socket-only
        // cluster still has a port: it names the socket file.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                Pg("pg_ctl", ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o",
                    $"-p {Port} -k {Folder} -c listen_addresses={(tcp ? "127.0.0.1" : "''")} -c fsync=on -c max_connections=200"]);
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
