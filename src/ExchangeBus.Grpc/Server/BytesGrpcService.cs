// SPDX-License-Identifier: Apache-2.0
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace ExchangeBus.Grpc;

/// <summary>
/// Methods whose names are known only at run time and whose messages are opaque bytes: an agency
/// backend the node forwards to, the benchmarks' baselines. Served through Grpc.AspNetCore's own
/// extension point for services without generated code (<see cref="IServiceMethodProvider{TService}"/>),
/// so framing, deadlines and status stay the runtime's.
/// </summary>
public sealed class BytesGrpcService;

/// <summary>The methods a host's <see cref="BytesGrpcService"/> serves.</summary>
public sealed class BytesGrpcMethods
{
    private readonly List<Action<ServiceMethodProviderContext<BytesGrpcService>>> _methods = [];

    /// <summary>Raw bytes, as they are.</summary>
    public static readonly Marshaller<byte[]> Marshaller = Marshallers.Create(static (byte[] message) => message, static payload => payload);

    /// <summary>A method with byte messages, e.g. <c>Method(MethodType.Unary, "/demo.CitizenRegistry/GetCitizen")</c>.</summary>
    public static Method<byte[], byte[]> Method(MethodType type, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var slash = path.LastIndexOf('/');
        if (slash <= 1 || slash == path.Length - 1 || path[0] != '/')
        {
            throw new ArgumentException($"'{path}' is not a gRPC method path (/package.Service/Method).", nameof(path));
        }

        return new Method<byte[], byte[]>(type, path[1..slash], path[(slash + 1)..], Marshaller, Marshaller);
    }

    public BytesGrpcMethods AddUnary(Method<byte[], byte[]> method, UnaryServerMethod<byte[], byte[]> handler)
    {
        _methods.Add(context => context.AddUnaryMethod(method, [], (_, request, call) => handler(request, call)));
        return this;
    }

    public BytesGrpcMethods AddClientStreaming(Method<byte[], byte[]> method, ClientStreamingServerMethod<byte[], byte[]> handler)
    {
        _methods.Add(context => context.AddClientStreamingMethod(method, [], (_, requests, call) => handler(requests, call)));
        return this;
    }

    public BytesGrpcMethods AddDuplexStreaming(Method<byte[], byte[]> method, DuplexStreamingServerMethod<byte[], byte[]> handler)
    {
        _methods.Add(context => context.AddDuplexStreamingMethod(method, [], (_, requests, responses, call) => handler(requests, responses, call)));
        return this;
    }

    internal sealed class Provider(BytesGrpcMethods methods) : IServiceMethodProvider<BytesGrpcService>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<BytesGrpcService> context)
        {
            foreach (var add in methods._methods)
            {
                add(context);
            }
        }
    }
}
