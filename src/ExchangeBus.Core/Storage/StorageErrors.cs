// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Storage;

/// <summary>
/// Stable codes for a database the bus refuses to open, or cannot. Operators' scripts and the CLI's
/// <c>error CODE: message</c> line match on these strings, so they never change once released.
/// </summary>
public static class StorageErrors
{
    /// <summary>The file's schema version is newer than this program knows: written by a later release, left untouched.</summary>
    public const string SchemaTooNew = "Storage.SchemaTooNew";

    /// <summary>The file could not be put in WAL mode, which every bus database relies on for readers beside the writer.</summary>
    public const string NotWal = "Storage.NotWal";

    /// <summary>A PostgreSQL connection string that does not parse, or names no host or no database.</summary>
    public const string InvalidConnectionString = "Storage.InvalidConnectionString";

    /// <summary>
    /// The PostgreSQL server the settings name could not be reached, has no database of that
    /// name, or kept the store's writer lock from it too long: worth trying again later.
    /// </summary>
    public const string Unavailable = "Storage.Unavailable";

    /// <summary>The PostgreSQL server refused the login (SQLSTATE class 28: wrong password, no such role, pg_hba) or a privilege the store needs (42501).</summary>
    public const string AccessDenied = "Storage.AccessDenied";

    /// <summary>A PostgreSQL database that holds tables but not the store's version table: another program's or another store's, never adopted.</summary>
    public const string NotThisStore = "Storage.NotThisStore";

    /// <summary>
    /// A PostgreSQL server on another machine reached without verifying its certificate
    /// (SSL Mode below VerifyCA): the connection would carry the password and the registry's data
    /// to whoever answers on the network.
    /// </summary>
    public const string InsecureConnection = "Storage.InsecureConnection";
}
