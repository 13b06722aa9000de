// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Grpc;

public delegate Task<TResponse> UnaryServerMethod<TRequest, TResponse>(TRequest request, ServerCallContext context);

public delegate Task<TResponse> ClientStreamingServerMethod<TRequest, TResponse>(
    IAsyncStreamReader<TRequest> requestStream, ServerCallContext context);

public delegate Task ServerStreamingServerMethod<TRequest, TResponse>(
    TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

public delegate Task DuplexStreamingServerMethod<TRequest, TResponse>(
    IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

/// <summary>The methods of one service and the handlers that serve them.</summary>
public sealed class GrpcServiceDefinition
{
    private GrpcServiceDefinition(IReadOnlyList<IServerMethod> methods) => Methods = methods;

    internal IReadOnlyList<IServerMethod> Methods { get; }

    public static Builder CreateBuilder() => new();

    public sealed class Builder
    {
        private readonly List<IServerMethod> _methods = [];

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
            => Add(method, MethodType.Unary, new ServerMethod<TRequest, TResponse>(method, unary: handler));

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
            => Add(method, MethodType.ClientStreaming, new ServerMethod<TRequest, TResponse>(method, clientStreaming: handler));

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
            => Add(method, MethodType.ServerStreaming, new ServerMethod<TRequest, TResponse>(method, serverStreaming: handler));

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
            => Add(method, MethodType.DuplexStreaming, new ServerMethod<TRequest, TResponse>(method, duplex: handler));

        public GrpcServiceDefinition Build() => new(_methods.ToArray());

        private Builder Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType handlerType, IServerMethod serverMethod)
        {
            ArgumentNullException.ThrowIfNull(method);
            if (method.Type != handlerType)
            {
                throw new ArgumentException($"{method.FullName} is {method.Type}; the handler given is {handlerType}.", nameof(method));
            }

            if (_methods.Exists(m => string.Equals(m.FullName, method.FullName, StringComparison.Ordinal)))
            {
                throw new ArgumentException($"{method.FullName} is already added.", nameof(method));
            }

            _methods.Add(serverMethod);
            return this;
        }
    }
}
