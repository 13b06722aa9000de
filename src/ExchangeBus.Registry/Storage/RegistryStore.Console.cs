// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Core.Storage;
using Google.Protobuf.WellKnownTypes;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

/// <summary>
/// The reads the web console pages through. Lists that grow with the bus's life (members,
/// certificates, the audit log) are read a slice at a time with their total, never whole; the
/// changes the console makes are the same methods the management API calls.
/// </summary>
public sealed partial class RegistryStore
{
    /// <summary>The most rows any slice returns, whatever the caller asks.</summary>
    public const int MaxSlice = 200;

    public IReadOnlyList<MemberClassView> ListMemberClasses()
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, """
            SELECT c.code, c.description, (SELECT COUNT(*) FROM members m WHERE m.class = c.code) FROM member_classes c ORDER BY c.code
            """);
        return ReadAll(command, r => new MemberClassView(r.GetString(0), r.GetString(1), r.GetInt32(2)));
    }

    /// <summary>Members whose CLASS/CODE or name contains <paramref name="text"/> (all when empty), without their subsystems.</summary>
    public StoreSlice<MemberInfo> SearchMembers(string? text, int offset, int limit)
    {
        var pattern = Pattern(StripInstance(text));
        using var connection = _database.OpenConnection();
        var like = _database.Like;
        // A parameter that may be null is cast where it is tested: PostgreSQL cannot type a bare NULL parameter.
        var where = $"WHERE CAST(@a AS TEXT) IS NULL OR (class || '/' || code) {like} @a ESCAPE '\\' OR name {like} @a ESCAPE '\\'";
        var total = (int)ScalarInt64(connection, null, "SELECT COUNT(*) FROM members " + where, pattern);
        using var command = Command(connection, null, $"SELECT class, code, name, enabled FROM members {where} ORDER BY class, code LIMIT @b OFFSET @c",
            pattern, Clamp(limit), Math.Max(0, offset));
        return new StoreSlice<MemberInfo>(ReadAll(command, r => new MemberInfo
        {
            Member = $"{Instance}/{r.GetString(0)}/{r.GetString(1)}",
            Name = r.GetString(2),
            Enabled = r.GetInt64(3) != 0,
        }), total);
    }

    /// <summary>A member with its subsystems, or null when there is none (or the text is not a member of this instance).</summary>
    public MemberInfo? FindMember(string member)
    {
        if (!MemberId.TryParse(member, out var id, out _) || !member.StartsWith(Instance + "/", StringComparison.Ordinal))
        {
            return null;
        }

        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, "SELECT name, enabled FROM members WHERE class = @a AND code = @b", id.MemberClass, id.MemberCode);
        var info = ReadAll(command, r => new MemberInfo { Member = id.ToString(), Name = r.GetString(0), Enabled = r.GetInt64(1) != 0 }).SingleOrDefault();
        if (info is null)
        {
            return null;
        }

        using var subsystems = Command(connection, null, "SELECT code, enabled FROM subsystems WHERE class = @a AND member_code = @b ORDER BY code",
            id.MemberClass, id.MemberCode);
        info.Subsystems.AddRange(ReadAll(subsystems, r => new SubsystemInfo { Subsystem = $"{id}/{r.GetString(0)}", Enabled = r.GetInt64(1) != 0 }));
        return info;
    }

    /// <summary>
    /// Issued certificates, newest first: those whose serial number (hex, colons and leading
    /// zeros ignored) starts with <paramref name="serial"/>, whose subject contains
    /// <paramref name="subject"/>, and that were issued through a registration of
    /// <paramref name="owner"/> (a member, INSTANCE/CLASS/CODE, or a node, …/NODECODE); each
    /// part empty for any.
    /// </summary>
    public StoreSlice<IssuedCertificateView> SearchCertificates(string? serial, string? subject, string? owner, int offset, int limit)
    {
        var serialPattern = string.IsNullOrWhiteSpace(serial) ? null : EscapeLike(NormaliseSerial(serial)) + "%";
        var (ownerClass, ownerCode, ownerNode) = Owner(owner);
        using var connection = _database.OpenConnection();
        // A registration's serials are as .NET prints them (leading zeros kept); certificates.serial is normalised.
        var like = _database.Like;
        var where = $"""
            WHERE (CAST(@a AS TEXT) IS NULL OR serial {like} @a ESCAPE '\') AND (CAST(@b AS TEXT) IS NULL OR subject {like} @b ESCAPE '\')
            AND (CAST(@c AS TEXT) IS NULL OR serial IN (
                SELECT ltrim(upper(s), '0') FROM (
                    SELECT auth_cert_serial AS s, class, member_code, node_code FROM registrations
                    UNION ALL SELECT signing_cert_serial, class, member_code, node_code FROM registrations) issued
                WHERE s IS NOT NULL AND class = @c AND member_code = @d AND (CAST(@e AS TEXT) IS NULL OR node_code = @e)))
            """;
        object?[] args = [serialPattern, Pattern(subject), ownerClass, ownerCode, ownerNode];
        var total = (int)ScalarInt64(connection, null, "SELECT COUNT(*) FROM certificates " + where, args);
        using var command = Command(connection, null,
            $"SELECT {CertificateColumns} FROM certificates {where} ORDER BY issued_at DESC, serial LIMIT @f OFFSET @g",
            [.. args, Clamp(limit), Math.Max(0, offset)]);
        return new StoreSlice<IssuedCertificateView>(ReadAll(command, ReadCertificate), total);
    }

    public IssuedCertificateView? FindCertificate(string serial)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, $"SELECT {CertificateColumns} FROM certificates WHERE serial = @a", NormaliseSerial(serial));
        return ReadAll(command, ReadCertificate).SingleOrDefault();
    }

    public IReadOnlyList<GlobalGroupView> ListGlobalGroups()
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, """
            SELECT g.code, g.description, (SELECT COUNT(*) FROM global_group_members m WHERE m.group_code = g.code) FROM global_groups g ORDER BY g.code
            """);
        return ReadAll(command, r => new GlobalGroupView($"{Instance}/{r.GetString(0)}", r.GetString(1), r.GetInt32(2)));
    }

    /// <summary>A global group's members (clients: members or subsystems), or null when there is no such group.</summary>
    public IReadOnlyList<string>? GlobalGroupMembers(string group)
    {
        if (!GlobalGroupId.TryParse(group, out var id, out _) || !group.StartsWith(Instance + "/", StringComparison.Ordinal))
        {
            return null;
        }

        using var connection = _database.OpenConnection();
        if (!Exists(connection, null, "SELECT 1 FROM global_groups WHERE code = @a", id.GroupCode))
        {
            return null;
        }

        using var command = Command(connection, null, "SELECT member FROM global_group_members WHERE group_code = @a ORDER BY member", id.GroupCode);
        return ReadAll(command, r => r.GetString(0));
    }

    /// <summary>The kept configuration versions, newest first.</summary>
    public StoreSlice<ConfigurationVersionView> ListConfigurations(int offset, int limit)
    {
        using var connection = _database.OpenConnection();
        var total = (int)ScalarInt64(connection, null, "SELECT COUNT(*) FROM configurations");
        using var command = Command(connection, null,
            "SELECT version, created_at, expires_at, length(signed) FROM configurations ORDER BY version DESC LIMIT @a OFFSET @b", Clamp(limit), Math.Max(0, offset));
        return new StoreSlice<ConfigurationVersionView>(ReadAll(command, r => new ConfigurationVersionView(
            (ulong)r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetInt64(3))), total);
    }

    /// <summary>
    /// A kept version's signed document, the bytes as stored: the same serialized
    /// <see cref="SignedGlobalConfiguration"/> nodes receive and keep. Null when not kept.
    /// </summary>
    public byte[]? ReadSignedConfiguration(ulong version)
    {
        using var connection = _database.OpenConnection();
        return Scalar(connection, null, "SELECT signed FROM configurations WHERE version = @a", (long)Math.Min(version, long.MaxValue)) as byte[];
    }

    /// <summary>Admin audit entries that pass <paramref name="filter"/>, newest first.</summary>
    public StoreSlice<AdminAuditEntry> SearchAuditLog(AuditLogFilter filter, int offset, int limit)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = _database.OpenConnection();
        return AdminAuditLog.Search(connection, filter, Math.Max(0, offset), Clamp(limit));
    }

    private const string CertificateColumns = "serial, subject, profile, not_after, revoked_at, revocation_reason, issued_at, der";

    private static IssuedCertificateView ReadCertificate(DbDataReader r)
    {
        var info = new CertificateInfo
        {
            SerialNumber = r.GetString(0),
            Subject = r.GetString(1),
            Profile = r.GetString(2),
            NotAfter = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))),
            Revoked = !r.IsDBNull(4),
        };
        if (info.Revoked)
        {
            info.RevokedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));
            info.RevocationReason = RevocationReasons.Name(r.GetInt32(5));
        }

        return new IssuedCertificateView(info, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)), (byte[])r[7]);
    }

    /// <summary>A member or node identifier of this instance as (class, member code, node code or null); all null when empty; a match for nothing when it is neither.</summary>
    private (string? Class, string? Code, string? Node) Owner(string? owner)
    {
        if (string.IsNullOrWhiteSpace(owner))
        {
            return (null, null, null);
        }

        owner = owner.Trim();
        var local = owner.StartsWith(Instance + "/", StringComparison.Ordinal) ? owner : $"{Instance}/{owner}";
        return NodeId.TryParse(local, out var node, out _) ? (node.Owner.MemberClass, node.Owner.MemberCode, node.NodeCode)
            : MemberId.TryParse(local, out var member, out _) ? (member.MemberClass, member.MemberCode, null)
            : (string.Empty, string.Empty, string.Empty);
    }

    private string? StripInstance(string? text) =>
        text?.Trim() is { Length: > 0 } t ? (t.StartsWith(Instance + "/", StringComparison.Ordinal) ? t[(Instance.Length + 1)..] : t) : null;

    private static string? Pattern(string? text) =>
        text?.Trim() is { Length: > 0 } t ? "%" + EscapeLike(t) + "%" : null;

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static int Clamp(int limit) => Math.Clamp(limit, 1, MaxSlice);
}
