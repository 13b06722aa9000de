// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Storage;

/// <summary>
/// The database engines a store runs on. SQLite is the default: a file beside the program, one
/// writer. PostgreSQL is for state several instances share; a store's SQL is written once for
/// both (<see cref="Sql"/>), and <see cref="StoreDatabase"/> holds the few differences.
/// </summary>
public enum StorageEngine
{
    Sqlite,
    Postgres,
}
