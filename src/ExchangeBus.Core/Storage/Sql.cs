// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Storage;

/// <summary>
/// The few statement helpers the stores share, on either engine (<see cref="StorageEngine"/>).
/// Positional arguments bind to <c>@a</c>, <c>@b</c>, … in order, null as SQL NULL: both
/// Npgsql and Microsoft.Data.Sqlite take <c>@name</c>, so a statement is written once. A null
/// transaction means the connection's own (if one is open). Plain static methods, so a store can
/// <c>using static</c> them.
/// </summary>
public static class Sql
{
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(args);

        // CreateCommand enlists in the connection's open transaction; null keeps that one.
        var command = connection.CreateCommand();
        if (transaction is not null)
        {
            command.Transaction = transaction;
        }

        command.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            Bind(command, ((char)('a' + i)).ToString(), args[i]);
        }

        return command;
    }

    /// <summary>
    /// Adds a parameter named without its prefix: Npgsql binds it to <c>@name</c>, and
    /// Microsoft.Data.Sqlite to <c>@name</c>, <c>$name</c> or <c>:name</c>, whichever the
    /// statement has. The SQLite-only stores written before PostgreSQL came (the node's message
    /// log and file sync) still say <c>$a</c> and keep working unchanged.
    /// </summary>
    public static void Bind(DbCommand command, string name, object? value)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <returns>The rows changed.</returns>
    public static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params object?[] args)
    {
        using var command = Command(connection, transaction, sql, args);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row; null for no row or SQL NULL.</summary>
    public static object? Scalar(DbConnection connection, DbTransaction? transaction, string sql, params object?[] args)
    {
        using var command = Command(connection, transaction, sql, args);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>The first column of the first row as a 64-bit integer (aggregates such as <c>COUNT</c>, <c>COALESCE(MAX(…), 0)</c>).</summary>
    public static long ScalarInt64(DbConnection connection, DbTransaction? transaction, string sql, params object?[] args) =>
        Convert.ToInt64(Scalar(connection, transaction, sql, args), CultureInfo.InvariantCulture);

    /// <summary>Every row the command returns, each through <paramref name="read"/>.</summary>
    public static List<T> ReadAll<T>(DbCommand command, Func<DbDataReader, T> read)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(read);
        var list = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(read(reader));
        }

        return list;
    }

    /// <summary>As <see cref="ReadAll{T}(DbCommand, Func{DbDataReader, T})"/> for a SQLite-only store whose readers take SQLite's own type.</summary>
    public static List<T> ReadAll<T>(SqliteCommand command, Func<SqliteDataReader, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return ReadAll((DbCommand)command, r => read((SqliteDataReader)r));
    }
}
