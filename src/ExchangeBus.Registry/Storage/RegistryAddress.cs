// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Storage;

/// <summary>Where one registry instance is reachable: its gRPC listener (<c>https://host:port</c>) and its HTTP one (<c>http://host:port</c>, OCSP and TSA).</summary>
public sealed record RegistryAddress(string Grpc, string Http);
