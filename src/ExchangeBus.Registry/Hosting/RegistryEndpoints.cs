// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Hosting;

/// <summary>Where a running registry listens; written to its data folder when it starts.</summary>
public sealed record RegistryEndpoints(string Grpc, string Http, int ProcessId)
{
    public const string FileName = "endpoints.json";
}
