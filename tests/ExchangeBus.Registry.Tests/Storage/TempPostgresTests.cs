// SPDX-License-Identifier: Apache-2.0
using System.Net.Sockets;
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
    public void CreateDatabase_EachIsEmptyAndApart_OnLoopbackWithFsyncOn()
    {
        var first = _postgres.CreateDatabase();
        var second = _postgres.CreateDatabase();
        Assert.That(first, Is.Not.EqualTo(second));

        using (var connection = Open(first))
        {
            Execute(connection, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);");
            Assert.That(Scalar(connection, "SHOW fsync"), Is.EqualTo("on"));
            Assert.That(Scalar(connection, "SHOW listen_addresses"), Is.EqualTo("127.0.0.1"));
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
        var (folder, port) = (cluster.Folder, cluster.Port);
        using (var connection = Open(cluster.CreateDatabase()))
        {
            Assert.That(Scalar(connection, "SELECT 1"), Is.EqualTo(1));
        }

        NpgsqlConnection.ClearAllPools();
        cluster.Dispose();

        Assert.That(Directory.Exists(folder), Is.False);
        using var client = new TcpClient();
        Assert.Throws<SocketException>(() => client.Connect("127.0.0.1", port), "nothing listens on the cluster's port any more");
    }

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
