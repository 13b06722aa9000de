// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Storage;

/// <summary>
/// The few statement helpers the stores share. Positional arguments bind to <c>$a</c>,
/// <c>$b</c>, … in order, null as SQL NULL. A null transaction means the connection's own (if
/// one is open). Plain static methods, so a store can <c>using static</c> them.
/// </summary>
public static class Sql
{
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // CreateCommand enlists in the connection's open transaction; null keeps that one.
        var command = connection.CreateCommand();
        if (transaction is not null)
        {
            command.Transaction = transaction;
        }

        command.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            command.Parameters.AddWithValue("$" + (char)('a' + i), args[i] ?? DBNull.Value);
        }

        return command;
    }

    /// <returns>The rows changed.</returns>
    public static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] args)
    {
        using var command = Command(connection, transaction, sql, args);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row; null for no row or SQL NULL.</summary>
    public static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] args)
    {
        using var command = Command(connection, transaction, sql, args);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>The first column of the first row as a 64-bit integer (aggregates such as <c>COUNT</c>, <c>COALESCE(MAX(…), 0)</c>).</summary>
    public static long ScalarInt64(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] args) =>
        Convert.ToInt64(Scalar(connection, transaction, sql, args), CultureInfo.InvariantCulture);

    /// <summary>Every row the command returns, each through <paramref name="read"/>.</summary>
    public static List<T> ReadAll<T>(SqliteCommand command, Func<SqliteDataReader, T> read)
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
}
