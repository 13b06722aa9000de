// SPDX-License-Identifier: Apache-2.0
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Node.Descriptions;
using ExchangeBus.Node.Exchange;
using Grpc.Core;

namespace ExchangeBus.Node.Gateway;

/// <summary>
/// The methods a client node knows to be unary, from a descriptor (never from how a call
/// behaves): those take the cheaper unary exchange (Exchange.Deliver, two signatures); every
/// other typed call, known or not, is carried by Exchange.Stream, which is correct for all four
/// kinds (docs/design/agency-protocols.md, "Which exchange carries a typed call"). The
/// descriptor is the descriptor set the provider registered as the bus service's description,
/// fetched through <see cref="ServiceDescriptions"/> and kept as long as it keeps that description, so the answer for a (service, path) does not
/// change while the description is cached.
/// </summary>
public sealed class GrpcMethodKinds(ServiceDescriptions descriptions)
{
    // The unary paths of one fetched description, built once per description object: the
    // description cache hands out the same object while it lives.
    private readonly ConditionalWeakTable<ServiceDescription, FrozenSet<string>> _described = [];

    /// <summary>
    /// True when the provider's description of <paramref name="service"/> says <paramref name="path"/> is a unary method of the gRPC service it carries. A service
    /// without a description, or whose description cannot be fetched, is not known to be unary:
    /// the call goes by Exchange.Stream, which then meets any refusal in the ordinary way.
    /// </summary>
    public async Task<bool> IsUnaryAsync(string client, string service, string path, ClientExchange.Caller caller, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ServiceDescription description;
        try
        {
            description = await descriptions.GetAsync(client, service, caller, deadline, correlationId, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return false;
        }

        return description.Kind == ServiceDescriptionKind.ProtobufDescriptorSet
            && _described.GetValue(description, UnaryPaths).Contains(path);
    }

    private static FrozenSet<string> UnaryPaths(ServiceDescription description)
    {
        try
        {
            return DescriptorSets.Build(description.Content)
                .SelectMany(f => f.Services)
                .Where(s => string.Equals(s.FullName, description.GrpcService, StringComparison.Ordinal))
                .SelectMany(s => s.Methods.Where(m => !m.IsClientStreaming && !m.IsServerStreaming).Select(m => $"/{s.FullName}/{m.Name}"))
                .ToFrozenSet(StringComparer.Ordinal);
        }
        catch (FormatException)
        {
            // The provider's node checked it before serving it; one that does not build teaches nothing.
            return FrozenSet<string>.Empty;
        }
    }
}
