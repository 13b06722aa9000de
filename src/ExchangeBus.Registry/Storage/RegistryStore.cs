// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Core.Storage;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

public sealed record ChangeOutcome(long AuditSequence, ulong ConfigurationVersion);

/// <summary>
/// Everything the registry knows, and every change to it. A change runs in one transaction:
/// check, apply, publish a new signed global configuration, append the audit entry, commit.
/// A refusal rolls the change back and records the refusal in its own transaction. One writer
/// at a time, and changes are rare: a lock in the process, and the database's own writer lock
/// (<see cref="RegistryDatabase.BeginWrite"/>: SQLite's, or on PostgreSQL an advisory lock that
/// every process sharing the database takes).
/// </summary>
public sealed partial class RegistryStore : TrustServices.ICertificateStatusSource
{
    private readonly RegistryDatabase _database;
    private readonly RegistryKeys _keys;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _writer = new();

    public RegistryStore(RegistryDatabase database, RegistryKeys keys, TimeProvider timeProvider)
    {
        _database = database;
        _keys = keys;
        _timeProvider = timeProvider;
        using var connection = _database.OpenConnection();
        Instance = GetSetting(connection, null, SettingInstance)
            ?? throw RegistryException.Precondition(RegistryErrors.NotInitialised, $"{_database.Location} holds no registry: run `xbus registry init` first.");
    }

    private const string SettingInstance = "instance";
    private const string SettingAutoApprove = "auto_approve";
    private const string SettingGrpcAddress = "grpc_address";
    private const string SettingHttpAddress = "http_address";
    private const string SettingAddresses = "registry_addresses";
    private const string SettingParameters = "parameters";

    public string Instance { get; }

    /// <summary>Whether <paramref name="database"/> holds a registry already (`xbus registry init` has run on it).</summary>
    public static bool IsInitialised(RegistryDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        using var connection = database.OpenConnection();
        return GetSetting(connection, null, SettingInstance) is not null;
    }

    /// <summary>Creates the settings of a new registry; `serve` publishes the first configuration.</summary>
    public static void Initialise(RegistryDatabase database, RegistryKeys keys, TimeProvider timeProvider, string instance, ConfigurationParameters parameters)
    {
        using var connection = database.OpenConnection();
        using var transaction = database.BeginWrite(connection);
        if (GetSetting(connection, transaction, SettingInstance) is not null)
        {
            throw RegistryException.Precondition(RegistryErrors.AlreadyInitialised, $"{database.Location} already holds a registry.");
        }

        SetSetting(connection, transaction, SettingInstance, instance);
        SetSetting(connection, transaction, SettingAutoApprove, "false");
        if (parameters.Validate().ToArray() is { Length: > 0 } problems)
        {
            throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "Invalid configuration parameters: " + string.Join("; ", problems));
        }

        SetSetting(connection, transaction, SettingParameters, JsonSerializer.Serialize(parameters));
        // No configuration yet: it names the registry's addresses, known once `serve` has bound them.
        AdminAuditLog.Append(connection, transaction, timeProvider.GetUtcNow(), "registry", "registry.init", true, string.Empty,
            string.Empty, AdminAuditLog.Describe(new { instance, parameters }));

        // The first administrator's certificate among them: revocable from the first day.
        RecordKeySet(connection, transaction, keys, timeProvider);
        transaction.Commit();
    }

    // ---- changes -------------------------------------------------------------------------

    public ChangeOutcome AddMemberClass(string actor, string code, string description) =>
        Change(actor, "memberClass.add", new { code, description }, (c, t) =>
        {
            RequireIdentifierPart(code, "member class");
            if (Exists(c, t, "SELECT 1 FROM member_classes WHERE code = @a", code))
            {
                throw RegistryException.Exists(RegistryErrors.DuplicateMemberClass, $"Member class '{code}' already exists.");
            }

            Execute(c, t, "INSERT INTO member_classes (code, description) VALUES (@a, @b)", code, description);
            return (null, new { code, description });
        });

    public ChangeOutcome AddMember(string actor, string member, string name) =>
        Change(actor, "member.add", new { member, name }, (c, t) =>
        {
            var id = ParseInstanceLocal(member, MemberId.Parse);
            if (string.IsNullOrWhiteSpace(name) || name.Length > 255)
            {
                throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "A member needs a name of 1–255 characters.");
            }

            if (!Exists(c, t, "SELECT 1 FROM member_classes WHERE code = @a", id.MemberClass))
            {
                throw RegistryException.NotFound(RegistryErrors.UnknownMemberClass, $"Member class '{id.MemberClass}' does not exist.");
            }

            if (Exists(c, t, "SELECT 1 FROM members WHERE class = @a AND code = @b", id.MemberClass, id.MemberCode))
            {
                throw RegistryException.Exists(RegistryErrors.DuplicateMember, $"Member '{id}' already exists.");
            }

            Execute(c, t, "INSERT INTO members (class, code, name, enabled, created_at) VALUES (@a, @b, @c, 1, @d)",
                id.MemberClass, id.MemberCode, name, Now());
            return (null, new { member = id.ToString(), name, enabled = true });
        });

    public ChangeOutcome SetMemberEnabled(string actor, string member, bool enabled) =>
        Change(actor, enabled ? "member.enable" : "member.disable", new { member }, (c, t) =>
        {
            var id = ParseInstanceLocal(member, MemberId.Parse);
            var was = RequireMember(c, t, id);
            Execute(c, t, "UPDATE members SET enabled = @c WHERE class = @a AND code = @b", id.MemberClass, id.MemberCode, enabled ? 1 : 0);
            return (new { member, enabled = was }, new { member, enabled });
        });

    public ChangeOutcome AddSubsystem(string actor, string subsystem) =>
        Change(actor, "subsystem.add", new { subsystem }, (c, t) =>
        {
            var id = ParseInstanceLocal(subsystem, SubsystemId.Parse);
            RequireMember(c, t, id.Member);
            if (Exists(c, t, "SELECT 1 FROM subsystems WHERE class = @a AND member_code = @b AND code = @c",
                id.Member.MemberClass, id.Member.MemberCode, id.SubsystemCode))
            {
                throw RegistryException.Exists(RegistryErrors.DuplicateSubsystem, $"Subsystem '{id}' already exists.");
            }

            Execute(c, t, "INSERT INTO subsystems (class, member_code, code, enabled, created_at) VALUES (@a, @b, @c, 1, @d)",
                id.Member.MemberClass, id.Member.MemberCode, id.SubsystemCode, Now());
            return (null, new { subsystem = id.ToString(), enabled = true });
        });

    public ChangeOutcome SetSubsystemEnabled(string actor, string subsystem, bool enabled) =>
        Change(actor, enabled ? "subsystem.enable" : "subsystem.disable", new { subsystem }, (c, t) =>
        {
            var id = ParseInstanceLocal(subsystem, SubsystemId.Parse);
            var was = Scalar(c, t, "SELECT enabled FROM subsystems WHERE class = @a AND member_code = @b AND code = @c",
                id.Member.MemberClass, id.Member.MemberCode, id.SubsystemCode)
                ?? throw RegistryException.NotFound(RegistryErrors.UnknownSubsystem, $"Subsystem '{id}' does not exist.");
            Execute(c, t, "UPDATE subsystems SET enabled = @d WHERE class = @a AND member_code = @b AND code = @c",
                id.Member.MemberClass, id.Member.MemberCode, id.SubsystemCode, enabled ? 1 : 0);
            return (new { subsystem, enabled = Convert.ToInt64(was, CultureInfo.InvariantCulture) != 0 }, new { subsystem, enabled });
        });

    public ChangeOutcome AddGlobalGroup(string actor, string group, string description) =>
        Change(actor, "group.add", new { group, description }, (c, t) =>
        {
            var id = ParseInstanceLocal(group, GlobalGroupId.Parse);
            if (Exists(c, t, "SELECT 1 FROM global_groups WHERE code = @a", id.GroupCode))
            {
                throw RegistryException.Exists(RegistryErrors.DuplicateGroup, $"Global group '{id}' already exists.");
            }

            Execute(c, t, "INSERT INTO global_groups (code, description) VALUES (@a, @b)", id.GroupCode, description);
            return (null, new { group = id.ToString(), description });
        });

    public ChangeOutcome SetGlobalGroupMember(string actor, string group, string member, bool present) =>
        Change(actor, present ? "group.addMember" : "group.removeMember", new { group, member }, (c, t) =>
        {
            var groupId = ParseInstanceLocal(group, GlobalGroupId.Parse);
            var client = ParseInstanceLocal(member, ClientId.Parse);
            if (!Exists(c, t, "SELECT 1 FROM global_groups WHERE code = @a", groupId.GroupCode))
            {
                throw RegistryException.NotFound(RegistryErrors.UnknownGroup, $"Global group '{groupId}' does not exist.");
            }

            RequireMember(c, t, client.Member);
            var was = Exists(c, t, "SELECT 1 FROM global_group_members WHERE group_code = @a AND member = @b", groupId.GroupCode, client.ToString());
            Execute(c, t, present
                ? "INSERT INTO global_group_members (group_code, member) VALUES (@a, @b) ON CONFLICT DO NOTHING"
                : "DELETE FROM global_group_members WHERE group_code = @a AND member = @b", groupId.GroupCode, client.ToString());
            return (new { group, member, present = was }, new { group, member, present });
        });

    public ChangeOutcome RevokeCertificate(string actor, string serialNumber, string reason) =>
        Change(actor, "certificate.revoke", new { serialNumber, reason }, (c, t) => Revoke(c, t, serialNumber, RevocationReasons.Parse(reason)));

    /// <summary>Revokes an issued certificate inside a change: an administrator's revocation, or a re-registration superseding a node's certificates.</summary>
    private (object? Before, object? After) Revoke(DbConnection c, DbTransaction t, string serialNumber, int code)
    {
        var serial = NormaliseSerial(serialNumber);
        using var command = Command(c, t, "SELECT subject, profile, revoked_at FROM certificates WHERE serial = @a", serial);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw RegistryException.NotFound(RegistryErrors.UnknownCertificate, $"No certificate with serial number {serial} was issued here.");
        }

        var (subject, profile) = (reader.GetString(0), reader.GetString(1));
        if (!reader.IsDBNull(2))
        {
            throw RegistryException.Precondition(RegistryErrors.AlreadyRevoked, $"Certificate {serial} is already revoked.");
        }

        reader.Close();

        // The configuration published with this change leaves out a node whose authentication
        // certificate this is, and an OCSP responder or TSA certificate (RegistryStore.Configuration).
        Execute(c, t, "UPDATE certificates SET revoked_at = @b, revocation_reason = @c WHERE serial = @a", serial, Now(), code);
        return (new { serial, subject, profile, revoked = false }, new { serial, subject, profile, revoked = true, reason = RevocationReasons.Name(code) });
    }

    public ChangeOutcome SetAutoApprove(string actor, bool autoApprove) =>
        Change(actor, "registration.autoApprove", new { autoApprove }, (c, t) =>
        {
            var was = GetSetting(c, t, SettingAutoApprove);
            SetSetting(c, t, SettingAutoApprove, autoApprove ? "true" : "false");
            return (new { autoApprove = was == "true" }, new { autoApprove });
        }, publish: false);

    /// <summary>
    /// Records where this registry instance is reachable, published in the configuration
    /// (registry addresses; the first instance's HTTP address for the CA's OCSP URL and the TSA
    /// URL). Null when already recorded. On SQLite there is one registry: its addresses replace
    /// the last ones, as they always did. On PostgreSQL several instances share the database:
    /// each adds its own to the list (<see cref="RegistryAddresses"/>), in the order they were
    /// first added, and one restarting where it was changes nothing. Decided again under the
    /// writer lock, so instances starting together publish one version per change.
    /// </summary>
    public ChangeOutcome? SetPublicAddresses(string grpcAddress, string httpAddress)
    {
        var wanted = new RegistryAddress(grpcAddress, httpAddress);
        using (var connection = _database.OpenConnection())
        {
            if (AddressesRecorded(connection, null, wanted))
            {
                return null;
            }
        }

        return ChangeUnlessDone("registry", "registry.addresses", new { grpcAddress, httpAddress }, (c, t) => AddressesRecorded(c, t, wanted), (c, t) =>
        {
            var before = ReadAddresses(c, t);
            var after = new List<RegistryAddress>(before);
            var at = after.FindIndex(a => a.Grpc == grpcAddress);
            if (_database.Engine == StorageEngine.Sqlite)
            {
                after = [wanted];
            }
            else if (at >= 0)
            {
                after[at] = wanted;
            }
            else
            {
                after.Add(wanted);
            }

            SetSetting(c, t, SettingGrpcAddress, after[0].Grpc);
            SetSetting(c, t, SettingHttpAddress, after[0].Http);
            if (_database.Engine == StorageEngine.Postgres)
            {
                // SQLite keeps only the pair above, as before there were several instances.
                SetSetting(c, t, SettingAddresses, JsonSerializer.Serialize(after));
            }

            return (Describe(before), Describe(after));
        });

        // One registry's entry reads as it always did; several instances' lists them all.
        static object Describe(List<RegistryAddress> addresses) =>
            addresses.Count <= 1
                ? new { grpcAddress = addresses.FirstOrDefault()?.Grpc, httpAddress = addresses.FirstOrDefault()?.Http }
                : new { addresses = addresses.Select(a => new { grpcAddress = a.Grpc, httpAddress = a.Http }) };
    }

    /// <summary>Every registry instance's addresses, in the order they were first recorded (the configuration's order).</summary>
    public IReadOnlyList<RegistryAddress> RegistryAddresses()
    {
        using var connection = _database.OpenConnection();
        return ReadAddresses(connection, null);
    }

    private bool AddressesRecorded(DbConnection c, DbTransaction? t, RegistryAddress wanted) =>
        ReadAddresses(c, t) is var recorded && recorded.Contains(wanted) && (_database.Engine != StorageEngine.Sqlite || recorded.Count == 1);

    /// <summary>
    /// The list, or for a database written before it (one registry), the one pair of settings
    /// that list grows from.
    /// </summary>
    private static List<RegistryAddress> ReadAddresses(DbConnection c, DbTransaction? t) =>
        GetSetting(c, t, SettingAddresses) is { } json
            ? JsonSerializer.Deserialize<List<RegistryAddress>>(json) ?? []
            : GetSetting(c, t, SettingGrpcAddress) is { } grpc
                ? [new RegistryAddress(grpc, GetSetting(c, t, SettingHttpAddress) ?? string.Empty)]
                : [];

    /// <summary>
    /// Publishes a fresh version when half the current one's validity has passed, so nodes
    /// polling on their refresh interval always hold one that is far from expiry. Whether it is
    /// due is decided again inside the write transaction, after the writer lock: several
    /// instances on one database, all finding it due at once, publish one version between them
    /// (the others find the new one and publish nothing). Null when nothing was published.
    /// </summary>
    public ulong? RefreshConfigurationIfDue()
    {
        using var connection = _database.OpenConnection();

        // The common case, nothing due, costs a read and no lock.
        if (!RefreshDue(connection, null))
        {
            return null;
        }

        lock (_writer)
        {
            using var transaction = _database.BeginWrite(connection);
            if (!RefreshDue(connection, transaction))
            {
                return null;
            }

            var published = Publish(connection, transaction);
            transaction.Commit();
            return published;
        }
    }

    private bool RefreshDue(DbConnection c, DbTransaction? t)
    {
        var (version, createdAt, expiresAt) = LatestConfigurationTimes(c, t);
        return version == 0 || Now() >= createdAt + ((expiresAt - createdAt) / 2);
    }

    // ---- the change pipeline ------------------------------------------------------------------

    private ChangeOutcome Change(
        string actor,
        string action,
        object request,
        Func<DbConnection, DbTransaction, (object? Before, object? After)> apply,
        bool publish = true,
        bool recordRefusal = true) =>
        ChangeUnlessDone(actor, action, request, done: null, apply, publish, recordRefusal)!;

    /// <summary>
    /// <see cref="Change"/>, unless <paramref name="done"/> finds, under the writer lock, that
    /// another writer (this instance or another on the same database) has made it already: then
    /// nothing is written and the answer is null.
    /// </summary>
    private ChangeOutcome? ChangeUnlessDone(
        string actor,
        string action,
        object request,
        Func<DbConnection, DbTransaction, bool>? done,
        Func<DbConnection, DbTransaction, (object? Before, object? After)> apply,
        bool publish = true,
        bool recordRefusal = true)
    {
        lock (_writer)
        {
            using var connection = _database.OpenConnection();
            try
            {
                using var transaction = _database.BeginWrite(connection);
                if (done?.Invoke(connection, transaction) == true)
                {
                    return null;
                }

                var (before, after) = apply(connection, transaction);
                var version = publish ? Publish(connection, transaction) : LatestConfigurationTimes(connection, transaction).Version;
                var entry = AdminAuditLog.Append(connection, transaction, _timeProvider.GetUtcNow(), actor, action, true, string.Empty,
                    AdminAuditLog.Describe(before), AdminAuditLog.Describe(after));
                transaction.Commit();
                return new ChangeOutcome(entry.Sequence, version);
            }
            catch (RegistryException ex) when (recordRefusal)
            {
                RecordRefusal(connection, actor, action, ex.Code, request);
                throw;
            }
        }
    }

    /// <summary>Records a caller refused before it could ask for anything, and returns the exception to throw.</summary>
    public RegistryException RecordUnauthorised(string actor, string action, RegistryException refusal) =>
        Refuse(actor, action, new { }, refusal);

    /// <summary>Records a refusal found before any change began, and returns the exception to throw.</summary>
    private RegistryException Refuse(string actor, string action, object request, RegistryException refusal)
    {
        lock (_writer)
        {
            using var connection = _database.OpenConnection();
            RecordRefusal(connection, actor, action, refusal.Code, request);
        }

        return refusal;
    }

    /// <summary>A refused change leaves only its audit entry: what was asked, by whom, and why not.</summary>
    private void RecordRefusal(DbConnection connection, string actor, string action, string code, object request)
    {
        using var transaction = _database.BeginWrite(connection);
        AdminAuditLog.Append(connection, transaction, _timeProvider.GetUtcNow(), actor, action, false, code,
            string.Empty, AdminAuditLog.Describe(request));
        transaction.Commit();
    }

    // ---- helpers ----------------------------------------------------------------------------

    private T ParseInstanceLocal<T>(string text, Func<string, T> parse)
    {
        T id;
        try
        {
            id = parse(text);
        }
        catch (IdentifierFormatException ex)
        {
            throw RegistryException.Invalid(RegistryErrors.InvalidIdentifier, ex.Message);
        }

        var instance = text.AsSpan(0, Math.Max(0, text.IndexOf('/', StringComparison.Ordinal))).ToString();
        if (!string.Equals(instance, Instance, StringComparison.Ordinal))
        {
            throw RegistryException.Invalid(RegistryErrors.WrongInstance, $"'{text}' belongs to instance '{instance}'; this registry is '{Instance}'.");
        }

        return id;
    }

    private static void RequireIdentifierPart(string value, string what)
    {
        if (!MemberId.TryParse($"X/{value}/X", out _, out var error))
        {
            throw RegistryException.Invalid(RegistryErrors.InvalidIdentifier, $"Invalid {what} '{value}': {error!.Message}");
        }
    }

    private static bool RequireMember(DbConnection c, DbTransaction? t, MemberId id)
    {
        var enabled = Scalar(c, t, "SELECT enabled FROM members WHERE class = @a AND code = @b", id.MemberClass, id.MemberCode)
            ?? throw RegistryException.NotFound(RegistryErrors.UnknownMember, $"Member '{id}' does not exist.");
        return Convert.ToInt64(enabled, CultureInfo.InvariantCulture) != 0;
    }

    private long Now() => _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    internal static string NormaliseSerial(string serial) =>
        serial.Replace(":", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant().TrimStart('0') is { Length: > 0 } s ? s : "0";

    private static bool Exists(DbConnection c, DbTransaction? t, string sql, params object?[] args) =>
        Scalar(c, t, sql, args) is not null;

    private static string? GetSetting(DbConnection c, DbTransaction? t, string key) =>
        Scalar(c, t, "SELECT value FROM settings WHERE key = @a", key) as string;

    private static void SetSetting(DbConnection c, DbTransaction? t, string key, string value) =>
        Execute(c, t, "INSERT INTO settings (key, value) VALUES (@a, @b) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);

    private static (ulong Version, long CreatedAt, long ExpiresAt) LatestConfigurationTimes(DbConnection c, DbTransaction? t)
    {
        using var command = Command(c, t, "SELECT version, created_at, expires_at FROM configurations ORDER BY version DESC LIMIT 1");
        using var reader = command.ExecuteReader();
        return reader.Read() ? ((ulong)reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : (0, 0, 0);
    }
}
