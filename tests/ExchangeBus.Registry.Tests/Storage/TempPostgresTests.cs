// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Globalization;
using ExchangeBus.Tests.Shared;
using Npgsql;

namespace ExchangeBus.Registry.Tests.Storage;

/// <summary>The PostgreSQL harness the store's tests stand on: a cluster of its own, a database per test, gone afterwards.</summary>
public sealed class TempPostgresTests
{
    private TempPostgres _postgres = null!;

    [OneTimeSetUp]
    public void StartCluster() => _postgres = TempPostgres.StartOrIgnore();

    [OneTimeTearDown]
    public void StopCluster() => _postgres?.Dispose();

    [Test]
    public void CreateDatabase_EachIsEmptyAndApart_OnTheFoldersSocketOnlyWithFsyncOn()
    {
        var first = _postgres.CreateDatabase();
        var second = _postgres.CreateDatabase();
        Assert.That(first, Is.Not.EqualTo(second));

        using (var connection = Open(first))
        {
            Execute(connection, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);");
            Assert.That(Scalar(connection, "SHOW fsync"), Is.EqualTo("on"));
            Assert.That(Scalar(connection, "SHOW listen_addresses"), Is.Empty, "no TCP: only who can enter the 0700 folder reaches the trusting server");
            Assert.That(Scalar(connection, "SHOW unix_socket_directories"), Is.EqualTo(_postgres.Folder));
        }

        using (var connection = Open(second))
        {
            Assert.That(Scalar(connection, "SELECT to_regclass('t')::text"), Is.Null, "a table made in one test's database is not in another's");
        }
    }

    [Test]
    public void Dispose_StopsTheServerAndDeletesTheFolder()
    {
        var cluster = TempPostgres.Start(TempPostgres.FindBinaries()!);
        var folder = cluster.Folder;
        var postmaster = Postmaster(folder);
        using (var connection = Open(cluster.CreateDatabase()))
        {
            Assert.That(Scalar(connection, "SELECT 1"), Is.EqualTo(1));
        }

        NpgsqlConnection.ClearAllPools();
        cluster.Dispose();

        Assert.That(Directory.Exists(folder), Is.False);
        Assert.That(TempPostgres.IsRunning(postmaster), Is.False, "the server stopped");
    }

    [Test]
    public void Start_StopsAndDeletesAClusterWhoseTestProcessIsGone()
    {
        var stale = TempPostgres.Start(TempPostgres.FindBinaries()!);
        var postmaster = Postmaster(stale.Folder);
        using (var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            gone.WaitForExit();
            File.WriteAllText(Path.Combine(stale.Folder, "owner.pid"), gone.Id.ToString(CultureInfo.InvariantCulture));
        }

        using var next = TempPostgres.Start(TempPostgres.FindBinaries()!);

        Assert.That(Directory.Exists(stale.Folder), Is.False, "the killed run's folder is deleted");
        Assert.That(TempPostgres.IsRunning(postmaster), Is.False, "and its server stopped");
        Assert.That(Directory.Exists(next.Folder), Is.True);
        Assert.That(Directory.Exists(_postgres.Folder), Is.True, "a live run's cluster is left alone");
    }

    private static int Postmaster(string folder) =>
        int.Parse(File.ReadLines(Path.Combine(folder, "data", "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    private static NpgsqlConnection Open(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static object? Scalar(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar() is var value && value is DBNull ? null : value;
    }
}
