// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;

namespace ExchangeBus.Node.Gateway;

/// <summary>
/// The methods a client node knows to be unary, from a descriptor (never from how a call
/// behaves): those take the cheaper unary exchange (Exchange.Deliver, two signatures); every
/// other typed call, known or not, is carried by Exchange.Stream, which is correct for all four
/// kinds (docs/design/agency-protocols.md, "Which exchange carries a typed call"). Empty unless
/// descriptors are registered; service descriptions fetched over the bus can fill it.
/// </summary>
public sealed class GrpcMethodKinds
{
    private readonly ConcurrentDictionary<string, bool> _unary = new(StringComparer.Ordinal);

    /// <summary>Learns the kind of every method of <paramref name="service"/>.</summary>
    public void Add(Google.Protobuf.Reflection.ServiceDescriptor service)
    {
        ArgumentNullException.ThrowIfNull(service);
        foreach (var method in service.Methods)
        {
            _unary[$"/{service.FullName}/{method.Name}"] = !method.IsClientStreaming && !method.IsServerStreaming;
        }
    }

    /// <summary>True only for a method path a registered descriptor says is unary.</summary>
    public bool IsUnary(string path) => _unary.TryGetValue(path, out var unary) && unary;
}
