// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Storage;

/// <summary>Opens bus databases with the settings each store names in a <see cref="SqliteOpenOptions"/>.</summary>
public static class SqliteConnections
{
    public static string ConnectionString(string path, SqliteOpenOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = options.Mode,
            Pooling = options.Pooling,
        };
        if (options.ForeignKeys)
        {
            builder.ForeignKeys = true;
        }

        if (options.BusyTimeoutBoundsCommands && options.BusyTimeout is { } busy)
        {
            builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busy.TotalSeconds));
        }

        return builder.ToString();
    }

    /// <summary>An open connection with the options' pragmas applied; disposed again if any of them fails.</summary>
    /// <exception cref="StorageException"><see cref="StorageErrors.NotWal"/>: WAL mode asked for and refused.</exception>
    public static SqliteConnection Open(string path, SqliteOpenOptions options)
    {
        if (options.OwnerOnly)
        {
            CreateOwnerOnly(path);
        }

        var connection = new SqliteConnection(ConnectionString(path, options));
        try
        {
            connection.Open();
            if (options.Wal)
            {
                var mode = Convert.ToString(Sql.Scalar(connection, null, "PRAGMA journal_mode=WAL;"), CultureInfo.InvariantCulture);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new StorageException(StorageErrors.NotWal, $"{path} could not be put in WAL mode (it is in {mode} mode).");
                }
            }

            var pragmas = Pragmas(options);
            if (pragmas.Length > 0)
            {
                Sql.Execute(connection, null, pragmas);
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static string Pragmas(SqliteOpenOptions options)
    {
        var sql = new StringBuilder();
        if (options.Synchronous is { } synchronous)
        {
            sql.Append("PRAGMA synchronous=").Append(synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL").Append("; ");
        }

        if (options.BusyTimeout is { } busy)
        {
            sql.Append(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={(long)busy.TotalMilliseconds}; ");
        }

        if (options.QueryOnly)
        {
            sql.Append("PRAGMA query_only=1; ");
        }

        foreach (var pragma in options.Pragmas)
        {
            sql.Append("PRAGMA ").Append(pragma).Append("; ");
        }

        return sql.ToString().TrimEnd();
    }

    private static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows() || File.Exists(path))
        {
            return;
        }

        try
        {
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created by someone else meanwhile; SQLite opens it as it is.
        }
    }
}
