// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using ExchangeBus.Core.Errors;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

public sealed partial class RegistryStore
{
    /// <summary>
    /// The address a registrant claims goes into its authentication certificate (a server
    /// certificate of the bus's CA): refused when the registry's gRPC listener or another node
    /// answers there, so no node holds a certificate for someone else's endpoint. The node itself
    /// registering again where it is, is not another node.
    /// </summary>
    private static void EnsureAddressFree(DbConnection c, DbTransaction t, string memberClass, string memberCode, string nodeCode, string address)
    {
        var wanted = ParseAddress(address);
        foreach (var registry in ReadAddresses(c, t))
        {
            if (Uri.TryCreate(registry.Grpc, UriKind.Absolute, out var uri)
                && SameEndpoint(wanted, (uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host, uri.Port)))
            {
                throw RegistryException.Exists(RegistryErrors.AddressInUse, $"{address} is the registry's own address; no node is certified for it.");
            }
        }

        using var command = Command(c, t, "SELECT address FROM nodes WHERE NOT (class = @a AND member_code = @b AND node_code = @c)", memberClass, memberCode, nodeCode);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (SameEndpoint(wanted, ParseAddress(reader.GetString(0))))
            {
                throw RegistryException.Exists(RegistryErrors.AddressInUse, $"{address} is another node's address; each node is certified for its own.");
            }
        }
    }

    private static bool SameEndpoint((string Host, int Port) a, (string Host, int Port) b) =>
        a.Port == b.Port && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);
}
