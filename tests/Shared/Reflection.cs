// SPDX-License-Identifier: Apache-2.0
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace ExchangeBus.Tests.Shared;

/// <summary>What a generic gRPC client (grpcurl, Postman) sees through server reflection.</summary>
internal static class Reflection
{
    /// <summary>The services the server lists, or the status it refused reflection with.</summary>
    public static async Task<IReadOnlyList<string>> ListServicesAsync(GrpcChannel channel)
    {
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(
            new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True, "no reflection answer");
        return [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).Order(StringComparer.Ordinal)];
    }
}
