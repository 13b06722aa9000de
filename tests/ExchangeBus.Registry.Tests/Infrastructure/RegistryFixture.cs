// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>
/// A real registry in a temp folder: keys on disk, Kestrel on ephemeral ports, its tables in
/// registry.db there or, given a connection string, in a PostgreSQL database.
/// </summary>
public sealed class RegistryFixture : IAsyncDisposable
{
    public const string Instance = "VN";

    private RegistryFixture(string directory, string? postgres, RegistryServer server)
    {
        Directory = directory;
        Postgres = postgres;
        Server = server;
    }

    public string Directory { get; }

    /// <summary>The PostgreSQL database's connection string; null when the registry is on SQLite.</summary>
    public string? Postgres { get; }

    public RegistryServer Server { get; }

    public RegistryStore Store => Server.Store;

    public string KeysDirectory => Path.Combine(Directory, RegistryKeys.Folder);

    public static async Task<RegistryFixture> StartAsync(
        bool autoApprove = false, TimeProvider? timeProvider = null, ConnectionLimits? limits = null, Func<RegistryServerOptions, RegistryServerOptions>? configure = null,
        string? postgres = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        var directory = System.IO.Directory.CreateTempSubdirectory("xbus-registry-").FullName;
        var keys = Path.Combine(directory, RegistryKeys.Folder);
        new DevelopmentPki(time).Create(new DevelopmentPkiOptions { OutputDirectory = keys, Instance = Instance });
        using (var registryKeys = RegistryKeys.Load(keys, time))
        {
            using var database = RegistryDatabase.Open(directory, postgres);
            RegistryStore.Initialise(database, registryKeys, time, Instance, new ConfigurationParameters());
            if (autoApprove)
            {
                new RegistryStore(database, registryKeys, time).SetAutoApprove("test", true);
            }
        }

        var options = new RegistryServerOptions
        {
            DataDirectory = directory, Postgres = postgres, GrpcListen = "127.0.0.1:0", HttpListen = "127.0.0.1:0", Limits = limits ?? new ConnectionLimits(),
        };
        var server = await RegistryServer.StartAsync(configure?.Invoke(options) ?? options, timeProvider: time);
        return new RegistryFixture(directory, postgres, server);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> on the registry's tables, whichever engine holds them, as
    /// someone with access to the database would (a tampering test); returns the rows changed.
    /// </summary>
    public int ExecuteSql(string sql, params object?[] args)
    {
        using var database = RegistryDatabase.Open(Directory, Postgres);
        using var connection = database.OpenConnection();
        return Sql.Execute(connection, null, sql, args);
    }

    /// <summary>registry.db with its write-ahead log: what the registry has written to disk.</summary>
    public long DatabaseBytes()
    {
        var path = Path.Combine(Directory, RegistryDatabase.FileName);
        return new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);
    }

    public X509Certificate2 Root => Server.Keys.RootCertificate;

    /// <summary>A channel authenticated with the given certificate (the administrator's by default; null for none).</summary>
    public GrpcChannel Channel(X509Certificate2? clientCertificate) => BusChannel.Create(
        new Uri(Server.GrpcAddress),
        new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([Root], TimeProvider.System),
            ClientCertificate = clientCertificate,
        });

    public GrpcChannel AdminChannel() => Management.AdministratorChannel.Open(Server.GrpcAddress, KeysDirectory, TimeProvider.System);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A SQLite handle still closing; the temp folder is cleaned by the OS eventually.
        }
    }
}
