// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Text.Json;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.GlobalConf;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

public sealed partial class RegistryStore
{
    /// <summary>The newest signed configuration, or null if none was published.</summary>
    public (ulong Version, SignedGlobalConfiguration? Configuration) CurrentConfiguration()
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, "SELECT version, signed FROM configurations ORDER BY version DESC LIMIT 1");
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? ((ulong)reader.GetInt64(0), SignedGlobalConfiguration.Parser.ParseFrom((byte[])reader[1]))
            : (0, null);
    }

    /// <summary>
    /// Whether the newest published configuration is still in date: what nodes need from the
    /// registry, so it is the registry's readiness.
    /// </summary>
    public bool HasConfigurationInDate()
    {
        using var connection = _database.OpenConnection();
        var (version, _, expiresAt) = LatestConfigurationTimes(connection, null);
        return version != 0 && _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() < expiresAt;
    }

    public ConfigurationParameters Parameters()
    {
        using var connection = _database.OpenConnection();
        return ReadParameters(connection, null);
    }

    private static ConfigurationParameters ReadParameters(DbConnection c, DbTransaction? t) =>
        GetSetting(c, t, SettingParameters) is { } json
            ? JsonSerializer.Deserialize<ConfigurationParameters>(json) ?? new ConfigurationParameters()
            : new ConfigurationParameters();

    /// <summary>Builds the configuration from the tables as they are inside the transaction, signs and stores it.</summary>
    private ulong Publish(DbConnection c, DbTransaction t)
    {
        var (previous, _, _) = LatestConfigurationTimes(c, t);
        var version = previous + 1;
        var now = _timeProvider.GetUtcNow();
        var parameters = ReadParameters(c, t);
        var expires = now.AddSeconds(parameters.ValiditySeconds);
        var configuration = Build(c, t, version, now, expires, parameters);

        // Never publish what nodes would refuse: a configuration every node rejects stops the
        // whole instance once the current one expires. The change that led here is rolled back.
        if (!GlobalConfigurationView.TryCreate(configuration, out _, out var problems))
        {
            throw new RegistryException(global::Grpc.Core.StatusCode.FailedPrecondition, RegistryErrors.InvalidConfiguration,
                "The change would publish a configuration nodes refuse: " + string.Join("; ", problems.Take(5).Select(p => p.Message)));
        }

        var signed = _keys.ConfigurationSigner.Sign(configuration);
        Execute(c, t, "INSERT INTO configurations (version, created_at, expires_at, signed) VALUES (@a, @b, @c, @d)",
            (long)version, now.ToUnixTimeMilliseconds(), expires.ToUnixTimeMilliseconds(), signed.ToByteArray());

        // Nodes only ever need the newest; a short history helps diagnose a node stuck on an old one.
        Execute(c, t, "DELETE FROM configurations WHERE version <= @a", (long)version - 100);
        return version;
    }

    private GlobalConfiguration Build(DbConnection c, DbTransaction t, ulong version, DateTimeOffset now, DateTimeOffset expires, ConfigurationParameters parameters)
    {
        var addresses = ReadAddresses(c, t);
        var grpcAddress = addresses.Count > 0 ? addresses[0].Grpc : string.Empty;
        var httpAddress = addresses.Count > 0 ? addresses[0].Http : string.Empty;
        var configuration = new GlobalConfiguration
        {
            Instance = Instance,
            Version = version,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
            ExpiresAt = Timestamp.FromDateTimeOffset(expires),
            Parameters = parameters.ToProto(),
            RegistryAddress = grpcAddress,
        };

        // One registry: its address alone, the configuration as it was before the list existed.
        if (addresses.Count > 1)
        {
            configuration.RegistryAddresses.AddRange(addresses.Select(a => a.Grpc));
        }

        using (var command = Command(c, t, "SELECT code, description FROM member_classes ORDER BY code"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                configuration.MemberClasses.Add(new MemberClass { Code = reader.GetString(0), Description = reader.GetString(1) });
            }
        }

        // Disabled members and subsystems are left out: a node must not serve or call them.
        var members = new Dictionary<(string, string), Member>();
        using (var command = Command(c, t, "SELECT class, code, name FROM members WHERE enabled = 1 ORDER BY class, code"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var member = new Member { MemberClass = reader.GetString(0), MemberCode = reader.GetString(1), Name = reader.GetString(2) };
                members[(member.MemberClass, member.MemberCode)] = member;
                configuration.Members.Add(member);
            }
        }

        using (var command = Command(c, t, "SELECT class, member_code, code FROM subsystems WHERE enabled = 1 ORDER BY class, member_code, code"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (members.TryGetValue((reader.GetString(0), reader.GetString(1)), out var member))
                {
                    member.Subsystems.Add(reader.GetString(2));
                }
            }
        }

        // A node whose authentication certificate is revoked is left out: peers accept only the
        // exact certificate listed for a node, so leaving it out is what makes them refuse it.
        // nodes.auth_cert_serial is as .NET prints it (leading zeros kept); certificates.serial is normalised.
        using (var command = Command(c, t, """
            SELECT n.class, n.member_code, n.node_code, n.address, n.auth_cert_sha256 FROM nodes n
            WHERE NOT EXISTS (SELECT 1 FROM certificates x WHERE x.serial = ltrim(upper(n.auth_cert_serial), '0') AND x.revoked_at IS NOT NULL)
            ORDER BY n.class, n.member_code, n.node_code
            """))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (members.ContainsKey((reader.GetString(0), reader.GetString(1))))
                {
                    configuration.Nodes.Add(new Node
                    {
                        OwnerClass = reader.GetString(0),
                        OwnerCode = reader.GetString(1),
                        NodeCode = reader.GetString(2),
                        Address = reader.GetString(3),
                        AuthCertificateSha256 = ByteString.CopyFrom((byte[])reader[4]),
                    });
                }
            }
        }

        var groups = new Dictionary<string, GlobalGroup>(StringComparer.Ordinal);
        using (var command = Command(c, t, "SELECT code, description FROM global_groups ORDER BY code"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var group = new GlobalGroup { Code = reader.GetString(0), Description = reader.GetString(1) };
                groups[group.Code] = group;
                configuration.GlobalGroups.Add(group);
            }
        }

        using (var command = Command(c, t, "SELECT group_code, member FROM global_group_members ORDER BY group_code, member"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                groups[reader.GetString(0)].Members.Add(reader.GetString(1));
            }
        }

        // The OCSP responder's and the TSA's certificates are listed only while good: nodes trust
        // exactly the responder and TSA certificates listed (docs/design/certificates.md), so a
        // revoked one is refused from the configuration after this one on. With no responder
        // listed, nodes accept only responses the CA signs itself, which this registry does not:
        // OCSP fails closed until a new responder certificate is installed in keys/.
        configuration.CertificateAuthorities.Add(new CertificateAuthority
        {
            Name = _keys.RootCertificate.Subject,
            Certificate = ByteString.CopyFrom(_keys.RootCertificate.RawData),
            OcspUrl = httpAddress.Length > 0 ? httpAddress + "/ocsp" : string.Empty,
            OcspCertificate = NotRevoked(c, t, _keys.Ocsp) ? ByteString.CopyFrom(_keys.Ocsp.RawData) : ByteString.Empty,
        });
        if (NotRevoked(c, t, _keys.TimeStamping))
        {
            configuration.TimeStampingAuthorities.Add(new TimeStampingAuthority
            {
                Name = _keys.TimeStamping.Subject,
                Url = httpAddress.Length > 0 ? httpAddress + "/tsa" : string.Empty,
                Certificate = ByteString.CopyFrom(_keys.TimeStamping.RawData),
            });
        }

        return configuration;
    }
}
