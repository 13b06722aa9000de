// SPDX-License-Identifier: Apache-2.0
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Core.Tests.Storage;

/// <summary>A database file in a fresh temporary folder, removed with it.</summary>
internal sealed class TempDatabase : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("xbus-storage-").FullName;

    public string Path => System.IO.Path.Combine(_folder, "test.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
